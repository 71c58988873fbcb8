from django.db import models

from .choices import OPEN_STATUSES, ArticleStatus


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def assigned_to(self, user):
        return self.filter(assignee=user)

    def unassigned(self):
        return self.filter(assignee__isnull=True)

    def not_paused(self):
        return self.filter(sla_paused_at__isnull=True)

    def due_before(self, when):
        """Open, running tickets with a target that falls due before `when` (or is past)."""
        from django.db.models import Q

        return (
            self.open()
            .not_paused()
            .filter(
                Q(first_responded_at__isnull=True, first_response_due__lt=when)
                | Q(resolution_due__lt=when)
            )
        )


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ArticleStatus.PUBLISHED)

    def search(self, text: str):
        from django.db.models import Q

        query = Q()
        for word in text.split():
            query &= Q(title__icontains=word) | Q(body__icontains=word)
        return self.filter(query)
