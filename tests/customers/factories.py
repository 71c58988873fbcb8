"""Factories of the customers app beyond the shared ones in tests/factories.py."""

import factory
from factory.django import DjangoModelFactory

from customers.models import Customer, Need, SavedView
from tests.factories import CustomerFactory, UserFactory


class OrganisationFactory(CustomerFactory):
    kind = "organisation"
    name = factory.Faker("company")
    industry = "Retail"


class NeedFactory(DjangoModelFactory):
    class Meta:
        model = Need

    customer = factory.SubFactory(CustomerFactory)
    description = factory.Faker("sentence", nb_words=5)


class SavedViewFactory(DjangoModelFactory):
    class Meta:
        model = SavedView

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"view {n}")
    query_string = "lifecycle_stage=lead"


__all__ = ["Customer", "NeedFactory", "OrganisationFactory", "SavedViewFactory"]
