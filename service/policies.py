"""Role rules for tickets (DESIGN.md role table)."""

from crm.roles import FullAccessForManagers, Role


class TicketPolicy(FullAccessForManagers):
    """Agents work every ticket (assign, reply, resolve). Reps see the tickets of the
    customers they own, read only, and may open a ticket for a customer."""

    def scope_for_staff(self, user, role, qs):
        if role is Role.SUPPORT_AGENT:
            return qs
        if role is Role.SALES_REP:
            return qs.filter(customer__owner=user)
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        if role is Role.SUPPORT_AGENT:
            return action != "delete"
        if role is Role.SALES_REP:
            if action == "add":
                return True
            return action == "view" and obj is not None and obj.customer.owner_id == user.pk
        return False
