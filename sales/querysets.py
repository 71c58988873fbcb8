from django.db import models
from django.utils import timezone


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class OrderQuerySet(models.QuerySet):
    def counted(self):
        """Orders that count as revenue (not drafts or cancellations)."""
        return self.exclude(status__in=["draft", "cancelled"])


class DealQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(owner=user)

    def open(self):
        return self.filter(stage__outcome="open")

    def won(self):
        return self.filter(stage__outcome="won")

    def lost(self):
        return self.filter(stage__outcome="lost")


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done=False)

    def overdue(self, now=None):
        return self.filter(done=False, due_at__lt=now or timezone.now())

    def assigned_to(self, user):
        return self.filter(assignee=user)

    def due_for_reminder(self, now=None):
        """Open tasks that are due and whose reminder has not gone out."""
        return self.filter(
            done=False, reminder_sent_at__isnull=True, due_at__lte=now or timezone.now()
        )
