"""Factories of the service desk's own models."""

import factory
from factory.django import DjangoModelFactory

from service.models import (
    Article,
    ArticleCategory,
    CannedReply,
    Feedback,
    TicketComment,
)
from tests.factories import CustomerFactory, TicketFactory


class TicketCommentFactory(DjangoModelFactory):
    class Meta:
        model = TicketComment

    ticket = factory.SubFactory(TicketFactory)
    body = factory.Faker("paragraph")
    is_public = True


class ArticleCategoryFactory(DjangoModelFactory):
    class Meta:
        model = ArticleCategory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class ArticleFactory(DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Faker("sentence", nb_words=5)
    body = factory.Faker("paragraph")
    status = "published"
    category = factory.SubFactory(ArticleCategoryFactory)


class CannedReplyFactory(DjangoModelFactory):
    class Meta:
        model = CannedReply

    title = factory.Faker("sentence", nb_words=3)
    body = "Hello {customer}, thank you for writing. {agent}"


class FeedbackFactory(DjangoModelFactory):
    class Meta:
        model = Feedback

    customer = factory.SubFactory(CustomerFactory)
    csat = 5
    ces = 6
    nps = 9
