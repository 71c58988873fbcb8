"""Role rules for the service desk (DESIGN.md role table)."""

from crm.roles import FullAccessForManagers, Role

# Actions on a ticket besides view/add/change/delete.
WORK_ACTIONS = frozenset({"change", "reply", "assign", "resolve", "merge", "close", "reopen"})


class TicketPolicy(FullAccessForManagers):
    """Agents work every ticket: assign, reply, resolve, merge, close. Reps see the tickets
    of the customers they own, read only, and may open a ticket for one of them."""

    def scope_for_staff(self, user, role, qs):
        if role is Role.SUPPORT_AGENT:
            return qs
        if role is Role.SALES_REP:
            return qs.filter(customer__owner=user)
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        if role is Role.SUPPORT_AGENT:
            return action in ("view", "add") or action in WORK_ACTIONS
        if role is Role.SALES_REP:
            if action == "add":
                return True
            return action == "view" and obj is not None and obj.customer.owner_id == user.pk
        return False


class TicketChildPolicy(FullAccessForManagers):
    """Comments, status changes and feedback follow their ticket's or customer's visibility:
    agents all, reps those of their own customers (read only)."""

    customer_path = "ticket__customer__owner"

    def scope_for_staff(self, user, role, qs):
        if role is Role.SUPPORT_AGENT:
            return qs
        if role is Role.SALES_REP:
            return qs.filter(**{self.customer_path: user})
        return qs.none()

    def allows_for_staff(self, user, role, action, obj):
        if role is Role.SUPPORT_AGENT:
            return action in ("view", "add")
        return action == "view" and role is Role.SALES_REP


class FeedbackPolicy(TicketChildPolicy):
    """Agents read all feedback and record feedback collected elsewhere (a survey tool);
    reps read their own customers'; managers and admins everything."""

    customer_path = "customer__owner"

    def allows_for_staff(self, user, role, action, obj):
        if role is Role.SUPPORT_AGENT:
            return action in ("view", "add")
        return action == "view" and role is Role.SALES_REP


class ArticlePolicy(FullAccessForManagers):
    """Everyone reads published articles; agents also read drafts and write articles."""

    def scope_for_staff(self, user, role, qs):
        if role is Role.SUPPORT_AGENT:
            return qs
        return qs.published()

    def allows_for_staff(self, user, role, action, obj):
        if role is Role.SUPPORT_AGENT:
            return action in ("view", "add", "change")
        return action == "view" and (obj is None or obj.status == "published")


class CannedReplyPolicy(FullAccessForManagers):
    """Canned replies are the agents' tool: they read and write them; reps do not see them."""

    def scope_for_staff(self, user, role, qs):
        return qs if role is Role.SUPPORT_AGENT else qs.none()

    def allows_for_staff(self, user, role, action, obj):
        return role is Role.SUPPORT_AGENT
