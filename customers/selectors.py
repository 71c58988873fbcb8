"""Page-shaped reads of customers."""

from django.db.models import Q, QuerySet

from crm import roles

from .models import Customer


def customer_list(*, user, search: str = "") -> QuerySet[Customer]:
    """Customers the user may see, optionally matching a search on name, email, phone
    or city."""
    qs = roles.visible(user, Customer).select_related("owner", "organisation")
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
            | Q(city__icontains=search)
        )
    return qs
