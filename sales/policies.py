"""Role rules for products, orders, deals and tasks (DESIGN.md role table).

Deals: reps see, change and move only their own (another rep's deal is a 404); managers
and admins all; support agents none. Orders: everyone sees them; reps also create them.
Tasks: each user sees the tasks assigned to them; managers and admins see all.
"""

from crm.roles import FullAccessForManagers, Policy, Role


class OrderPolicy(FullAccessForManagers):
    """Reps and agents see every order; reps also create them."""

    def scope_for_staff(self, user, role, qs):
        return qs

    def allows_for_staff(self, user, role, action, obj):
        if action == "view":
            return True
        return role is Role.SALES_REP and action == "add"


class DealPolicy(FullAccessForManagers):
    """Reps: their own deals only, for every action but delete ("move" is a stage change).
    Agents: no deals at all."""

    owner_path = "owner"

    def scope_for_staff(self, user, role, qs):
        if role is Role.SALES_REP:
            return qs.filter(**{self.owner_path: user})
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        if role is not Role.SALES_REP:
            return False
        if obj is None:
            return action in ("view", "add", "change", "move")
        return action in ("view", "change", "move") and self.owner_id(obj) == user.pk

    def owner_id(self, obj):
        return obj.owner_id


class DealChildPolicy(DealPolicy):
    """Deal lines and stage changes follow their deal."""

    owner_path = "deal__owner"

    def owner_id(self, obj):
        return obj.deal.owner_id


class TaskPolicy(FullAccessForManagers):
    """Reps see and work the tasks assigned to them, and create tasks for themselves."""

    def scope_for_staff(self, user, role, qs):
        if role is Role.SALES_REP:
            return qs.filter(assignee=user)
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        if role is not Role.SALES_REP:
            return False
        if obj is None:
            return action in ("view", "add", "change")
        return action in ("view", "change") and obj.assignee_id == user.pk


class NotificationPolicy(Policy):
    """Every user sees and reads only their own notices, whatever the role."""

    def scope(self, user, role, qs):
        return qs.filter(user=user)

    def allows(self, user, role, action, obj):
        return action in ("view", "change") and (obj is None or obj.user_id == user.pk)
