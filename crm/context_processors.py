from django.urls import reverse

from . import registry, roles


def navigation(request):
    """The navigation entries the current user's role may see, and the role itself."""
    user = getattr(request, "user", None)
    role = roles.role_of(user)
    if role is None:
        return {"nav_items": [], "user_role": None}
    path = request.path
    items = []
    for entry in registry.nav_entries():
        if role in entry.roles:
            url = reverse(entry.url_name)
            items.append(
                {
                    "label": entry.label,
                    "url": url,
                    "icon": entry.icon,
                    "active": path.startswith(url),
                }
            )
    return {
        "nav_items": items,
        "user_role": role,
        "can_use_admin": roles.may(user, "use_admin_site"),
    }
