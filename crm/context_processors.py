from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import roles
from .roles import Role

# Navigation entries: (label, url name, icon, roles that see it).
_ALL = frozenset(Role)
NAVIGATION = [
    (_("Customers"), "customers:customer_list", "people", _ALL),
    (_("Sales"), "sales:index", "graph-up-arrow", frozenset(_ALL - {Role.SUPPORT_AGENT})),
    (_("Orders"), "sales:index", "receipt", frozenset({Role.SUPPORT_AGENT})),
    (_("Tickets"), "service:ticket_list", "life-preserver", _ALL),
    (_("Analytics"), "analytics:index", "bar-chart-line", frozenset({Role.MANAGER, Role.ADMIN})),
]


def navigation(request):
    """The navigation entries the current user's role may see, and the role itself."""
    user = getattr(request, "user", None)
    role = roles.role_of(user)
    if role is None:
        return {"nav_items": [], "user_role": None}
    path = request.path
    items = []
    for label, url_name, icon, allowed in NAVIGATION:
        if role in allowed:
            url = reverse(url_name)
            items.append({"label": label, "url": url, "icon": icon, "active": path.startswith(url)})
    return {
        "nav_items": items,
        "user_role": role,
        "can_use_admin": roles.may(user, "use_admin_site"),
    }
