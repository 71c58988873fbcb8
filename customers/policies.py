"""Role rules for customers and their interactions (DESIGN.md role table)."""

from crm.roles import FullAccessForManagers, Role


class CustomerPolicy(FullAccessForManagers):
    """Reps and agents see every customer. Reps create customers and change their own;
    agents change contact details only ("change_contact"). Deleting is for managers."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        own = obj is None or obj.owner_id == user.pk
        if action == "view":
            return True
        if role is Role.SALES_REP:
            return action == "add" or (action in ("change", "change_contact") and own)
        if role is Role.SUPPORT_AGENT:
            return action == "change_contact"
        return False


class InteractionPolicy(FullAccessForManagers):
    """Reps and agents see and log interactions on every customer they can see."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        return action in ("view", "add")


class ReadOnlyForStaff(FullAccessForManagers):
    """Everyone reads; managers and admins write."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        return action == "view"
