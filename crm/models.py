"""Models of the crm app: user sessions here; the API's tokens and webhooks live in
crm/api/models.py."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserSession(models.Model):
    """A logged-in session of a user, so that every session of a user can be ended at once
    (when an admin deactivates the account) and admins can see where a user is logged in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("logged in"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"


from .api.models import ApiToken, DeliveryStatus, WebhookDelivery, WebhookEndpoint  # noqa: E402

__all__ = ["ApiToken", "DeliveryStatus", "UserSession", "WebhookDelivery", "WebhookEndpoint"]
