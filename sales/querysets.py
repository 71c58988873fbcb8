from django.db import models


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class OrderQuerySet(models.QuerySet):
    def counted(self):
        """Orders that count as revenue (not drafts or cancellations)."""
        return self.exclude(status__in=["draft", "cancelled"])
