"""Models of the crm app: the API's tokens and webhooks live in crm/api/models.py."""

from .api.models import ApiToken, DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = ["ApiToken", "DeliveryStatus", "WebhookDelivery", "WebhookEndpoint"]
