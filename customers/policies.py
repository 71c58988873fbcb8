"""Role rules for customers and their interactions (DESIGN.md role table)."""

from crm.roles import FullAccessForManagers, Policy, Role


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


class NeedPolicy(FullAccessForManagers):
    """Reps and agents record needs they hear of on any customer; a rep updates the needs of
    their own customers (the object's customer must be loaded, select_related)."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        if action in ("view", "add"):
            return True
        if action == "change" and role is Role.SALES_REP:
            return obj is None or obj.customer.owner_id == user.pk
        return False


class ReadOnlyForStaff(FullAccessForManagers):
    """Everyone reads; managers and admins write."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        return action == "view"


class OwnRowsOnly(Policy):
    """Personal rows (saved views): every role sees and changes only its own."""

    def scope(self, user, role, qs):
        return qs.filter(user=user)

    def allows(self, user, role, action, obj):
        return obj is None or obj.user_id == user.pk
