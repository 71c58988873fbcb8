import re

from django.db import models
from django.db.models import Q

_NON_DIGITS = re.compile(r"\D")


class CustomerQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(owner=user)

    def people(self):
        return self.filter(kind="person")

    def organisations(self):
        return self.filter(kind="organisation")

    def search(self, term: str):
        """Customers whose name, email, phone or city contains the term, case-insensitively.

        `icontains` compiles to `UPPER(col::text) LIKE UPPER('%term%')` on PostgreSQL, the
        exact expression of the trigram GIN indexes (migration 0003), so this stays an index
        scan at 100k+ rows. A term with digits also matches the phone ignoring spacing and
        punctuation ("(415) 555-01" finds +1415555 01..), since phones are stored in E.164.
        """
        term = " ".join((term or "").split())
        if not term:
            return self
        # Only ask the columns that can match: a phone holds "+" and digits, so it is
        # searched only by the digits of the term; a term with "@" can only be an email.
        if "@" in term:
            return self.filter(email__icontains=term)
        match = Q(name__icontains=term) | Q(email__icontains=term) | Q(city__icontains=term)
        digits = _NON_DIGITS.sub("", term)
        if len(digits) >= 3:
            match |= Q(phone__icontains=digits)
        return self.filter(match)


class InteractionQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)
