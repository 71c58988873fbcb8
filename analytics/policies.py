"""Role rules for the analytics results (DESIGN.md role table, "analytics" column).

Scores and recommendations: reps those of their own customers (another's is a 404);
managers and admins all. Segments, rules, forecasts and churn rates: managers and admins.
Satisfaction figures: the service figures, for agents too. Results are written by the jobs
only, so every role reads and nobody writes through a policy.
"""

from crm.roles import Policy, Role

READERS = (Role.MANAGER, Role.ADMIN)


class CustomerResultPolicy(Policy):
    """A customer's score or recommendations."""

    def scope(self, user, role, qs):
        if role in READERS:
            return qs
        if role is Role.SALES_REP:
            return qs.filter(customer__owner=user)
        return qs.none()

    def allows(self, user, role, action, obj):
        if action != "view":
            return False
        if role in READERS:
            return True
        return role is Role.SALES_REP and (obj is None or obj.customer.owner_id == user.pk)


class ManagerResultPolicy(Policy):
    """Figures about the whole business: the manager dashboards."""

    def scope(self, user, role, qs):
        return qs if role in READERS else qs.none()

    def allows(self, user, role, action, obj):
        return action == "view" and role in READERS


class ServiceFiguresPolicy(Policy):
    """Satisfaction over time: agents read it beside managers and admins."""

    def scope(self, user, role, qs):
        return qs if role in (*READERS, Role.SUPPORT_AGENT) else qs.none()

    def allows(self, user, role, action, obj):
        return action == "view" and role in (*READERS, Role.SUPPORT_AGENT)
