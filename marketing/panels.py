"""The customer-page panel of the marketing app: "Write an email" and the emails sent."""

from __future__ import annotations

from crm.roles import Role

from .selectors import may_write_to

PANEL_ROLES = frozenset(Role)


def email_panel(request, customer) -> dict | None:
    if not may_write_to(request.user, customer):
        return None
    emails = list(
        customer.emails.only("customer_id", "subject", "status", "created_at", "sent_at", "error")[
            :5
        ]
    )
    return {"customer": customer, "emails": emails}
