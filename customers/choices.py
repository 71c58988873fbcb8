from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER = "former", _("Former customer")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "", _("Not given")


class Education(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    VOCATIONAL = "vocational", _("Vocational")
    BACHELOR = "bachelor", _("Bachelor")
    MASTER = "master", _("Master")
    DOCTORATE = "doctorate", _("Doctorate")
    UNKNOWN = "", _("Not given")


class Source(models.TextChoices):
    WEB = "web", _("Website")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    CAMPAIGN = "campaign", _("Campaign")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social media")
    MEETING = "meeting", _("Meeting")
    SMS = "sms", _("SMS")
    WEB_FORM = "web_form", _("Web form")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    MET = "met", _("Met")
    DROPPED = "dropped", _("Dropped")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ConsentMethod(models.TextChoices):
    """How a customer gave marketing consent; kept as proof beside the date."""

    WEB_FORM = "web form", _("Web form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    IN_PERSON = "in person", _("In person")
    PAPER = "paper form", _("Signed paper form")
    IMPORT = "import", _("Imported with consent")


class BulkAction(models.TextChoices):
    ASSIGN_OWNER = "assign_owner", _("Assign owner")
    ADD_TAG = "add_tag", _("Add tag")
    CHANGE_STAGE = "change_stage", _("Change stage")
