"""Role rules for products and orders (DESIGN.md role table)."""

from crm.roles import FullAccessForManagers, Role


class OrderPolicy(FullAccessForManagers):
    """Reps and agents see every order; reps also create them."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        if action == "view":
            return True
        return role is Role.SALES_REP and action == "add"
