from django.db import models


class CustomerQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(owner=user)

    def people(self):
        return self.filter(kind="person")

    def organisations(self):
        return self.filter(kind="organisation")


class InteractionQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)
