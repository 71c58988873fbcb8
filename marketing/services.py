"""Every write of the marketing app: writing to a customer, campaigns, unsubscribes and
tracking. Celery tasks (tasks.py) are thin wrappers around the functions here."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from customers.choices import Channel, Direction
from customers.filters import CustomerFilter
from customers.models import Customer, Interaction
from customers.services import interaction_log

from . import rendering
from .choices import CampaignStatus, EmailStatus, Language, LanguageMode, RecipientStatus
from .models import Campaign, CampaignRecipient, EmailAttachment, OutboundEmail

log = logging.getLogger(__name__)

CHINESE_COUNTRIES = {"CN", "TW", "HK", "MO", "SG"}
UNSUBSCRIBE_SALT = "marketing.unsubscribe"
OPEN_SALT = "marketing.open"
CLICK_SALT = "marketing.click"


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: 1, 2, 4... times the base."""
    return settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)


def language_for(mode: str, customer) -> str:
    if mode == LanguageMode.ZH:
        return Language.ZH
    if mode == LanguageMode.EN:
        return Language.EN
    if customer.country.upper() in CHINESE_COUNTRIES:
        return Language.ZH
    return Language.ZH if settings.LANGUAGE_CODE.lower().startswith("zh") else Language.EN


# --- one email to one customer ------------------------------------------------------------


def attachments_limit_bytes() -> int:
    return settings.EMAIL_ATTACHMENTS_MAX_MB * 1024 * 1024


@transaction.atomic
def email_compose_send(
    *,
    user,
    customer: Customer,
    subject: str,
    body: str,
    language: str,
    template=None,
    files=(),
) -> OutboundEmail:
    """Render the subject and body for the customer, store the email with its attachments,
    log it on the timeline (an outbound email interaction) and queue its sending."""
    from .tasks import send_customer_email_task

    if not customer.email:
        raise ValidationError(_("This customer has no email address."))
    total = sum(f.size for f in files)
    if total > attachments_limit_bytes():
        raise ValidationError(
            {
                "attachments": _("Attachments may total at most %(mb)s MB.")
                % {"mb": settings.EMAIL_ATTACHMENTS_MAX_MB}
            }
        )
    context = rendering.customer_context(customer)
    message = rendering.render_message(subject, body, context)
    email = OutboundEmail.objects.create(
        customer=customer,
        sender=user,
        template=template,
        to_address=customer.email,
        language=language,
        subject=message.subject,
        body=message.text,
    )
    for f in files:
        EmailAttachment.objects.create(
            email=email,
            file=f,
            name=f.name[:200],
            size=f.size,
            content_type=getattr(f, "content_type", "") or "",
        )
    interaction = interaction_log(
        user=user,
        customer=customer,
        data={
            "channel": Channel.EMAIL,
            "direction": Direction.OUTBOUND,
            "subject": message.subject,
            "body": message.text,
        },
        related=email,
    )
    email.interaction = interaction
    email.save(update_fields=["interaction"])
    send_customer_email_task.delay_on_commit(email.pk)
    return email


def _build_email(email: OutboundEmail, connection=None) -> EmailMultiAlternatives:
    reply_to = [email.sender.email] if email.sender and email.sender.email else None
    msg = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_address],
        reply_to=reply_to,
        headers={"X-CRM-Email": str(email.pk)},
        connection=connection,
    )
    msg.attach_alternative(rendering.linebreaks(rendering.escape(email.body)), "text/html")
    for a in email.attachments.all():
        with a.file.open("rb") as fh:
            msg.attach(a.name, fh.read(), a.content_type or None)
    return msg


def email_deliver(email_id: int, *, final_attempt: bool) -> str | None:
    """Try to send one queued email. Returns its new status, or None when there was nothing
    to send (already sent or failed, or another worker holds it). A failure is recorded
    (attempts, error) and re-raised, unless this was the final attempt: then the email is
    marked failed, for the customer page to show."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("sender")
            .filter(pk=email_id, status=EmailStatus.QUEUED)
            .first()
        )
        if email is None:
            return None
        email.attempts += 1
        try:
            _build_email(email).send()
        except Exception as exc:
            email.error = f"{type(exc).__name__}: {exc}"[:2000]
            if final_attempt:
                email.status = EmailStatus.FAILED
                email.save(update_fields=["attempts", "error", "status"])
                log.warning("email %s failed for good: %s", email.pk, email.error)
                return EmailStatus.FAILED
            # Saved (committed below) before the error goes back to the task for a retry.
            email.save(update_fields=["attempts", "error"])
            raise_after = exc
        else:
            email.status = EmailStatus.SENT
            email.sent_at = timezone.now()
            email.error = ""
            email.save(update_fields=["attempts", "error", "status", "sent_at"])
            return EmailStatus.SENT
    raise raise_after


def requeue_stuck_emails(*, now: datetime | None = None, older_than: int = 3600) -> int:
    """Queued emails whose task was lost (broker down, worker killed) are queued again; an
    email waiting for a retry is younger than its longest backoff, hence the margin."""
    from .tasks import send_customer_email_task

    now = now or timezone.now()
    margin = timedelta(seconds=older_than + retry_delay(settings.EMAIL_SEND_MAX_ATTEMPTS))
    ids = list(
        OutboundEmail.objects.filter(
            status=EmailStatus.QUEUED, created_at__lt=now - margin
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        send_customer_email_task.delay(pk)
    return len(ids)


# --- campaigns: target, preview, start --------------------------------------------------


def segment_key(segment) -> str:
    """A segment's identity across segmentation runs (its ids change with every run)."""
    return f"{segment.name}:{segment.variant}"


def campaign_target(campaign: Campaign) -> QuerySet[Customer]:
    """Every customer of the campaign's target, before consent is considered."""
    qs = Customer.objects.all()
    if campaign.target_kind == "segment":
        if campaign.segment_key:
            name, _sep, variant = campaign.segment_key.partition(":")
            return qs.filter(
                segment_membership__segment__name=name,
                segment_membership__segment__variant=int(variant or 0),
            )
        if campaign.segment_id is None:
            return qs.none()
        return qs.filter(segment_membership__segment_id=campaign.segment_id)
    if campaign.target_kind == "saved_view":
        query = campaign.saved_view.query_string if campaign.saved_view else campaign.saved_query
        if not query and campaign.saved_view is None:
            return qs.none()
        return CustomerFilter(QueryDict(query), queryset=qs, request=None).qs.order_by()
    tagged = Customer.tags.through.objects.filter(
        tag_id__in=campaign.tags.through.objects.filter(campaign_id=campaign.pk).values("tag_id")
    )
    return qs.filter(pk__in=tagged.values("customer_id"))


def campaign_audience(campaign: Campaign) -> QuerySet[Customer]:
    """The customers a campaign may write to: its target, with marketing consent and an
    email address."""
    return campaign_target(campaign).filter(marketing_consent=True).exclude(email="").order_by("id")


def campaign_preview(campaign: Campaign, *, first: int = 10) -> dict:
    """Counts, the first recipients and one rendered message, in a fixed number of queries."""
    target = campaign_target(campaign)
    audience = campaign_audience(campaign)
    total = target.count()
    reachable = audience.count()
    recipients = list(audience.select_related("owner", "organisation")[:first])
    holdout = round(reachable * campaign.holdout_percent / 100)
    sample = None
    error = ""
    if recipients:
        try:
            sample = campaign_message(campaign, recipients[0], recipient_id=0)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return {
        "target": total,
        "excluded": total - reachable,
        "reachable": reachable,
        "holdout": holdout,
        "to_send": reachable - holdout,
        "first": recipients,
        "sample": sample,
        "error": error,
    }


def campaign_message(campaign: Campaign, customer, *, recipient_id: int, language=None):
    """One campaign message for a customer: tracked links, unsubscribe footer, pixel."""
    language = language or language_for(campaign.language_mode, customer)
    subject, body = campaign.template.version(language)
    unsubscribe = unsubscribe_url(recipient_id)

    def link(url: str) -> str:
        return click_url(recipient_id, url)

    with override(language):
        footer = _("You receive this because you agreed to hear from us. Unsubscribe:")
    return rendering.render_message(
        subject,
        body,
        rendering.customer_context(customer),
        link=link,
        footer_text=f"{footer} {unsubscribe}",
        footer_html=f'{rendering.escape(footer)} <a href="{rendering.escape(unsubscribe)}">'
        f"{rendering.escape(unsubscribe)}</a>",
        pixel_url=open_url(recipient_id) if campaign.track_opens else "",
    )


def campaign_schedule(*, campaign: Campaign, when: datetime | None) -> Campaign:
    """Send at `when` (the beat tick starts it) or, without a time, back to a draft."""
    if not campaign.is_editable:
        raise ValidationError(_("This campaign has already started."))
    campaign.scheduled_at = when
    campaign.status = CampaignStatus.SCHEDULED if when else CampaignStatus.DRAFT
    campaign.save(update_fields=["scheduled_at", "status"])
    return campaign


def campaign_start(*, campaign_id: int, now: datetime | None = None) -> int:
    """Fix the recipients of a draft or scheduled campaign (the consenting customers of its
    target at this moment), draw the holdout group at random, and queue the first batch.
    Returns the number of recipients; 0 if the campaign had already started."""
    from .tasks import campaign_send_batch_task

    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .select_related("template")
            .filter(pk=campaign_id, status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED])
            .first()
        )
        if campaign is None:
            return 0
        rows = list(campaign_audience(campaign).values_list("pk", "email", "country"))
        # SystemRandom: the holdout must not be predictable from the campaign's id.
        holdout_n = round(len(rows) * campaign.holdout_percent / 100)
        held = set(random.SystemRandom().sample(range(len(rows)), holdout_n))
        language = {LanguageMode.EN: Language.EN, LanguageMode.ZH: Language.ZH}
        site_default = Language.ZH if settings.LANGUAGE_CODE.startswith("zh") else Language.EN
        recipients = [
            CampaignRecipient(
                campaign=campaign,
                customer_id=pk,
                email=email,
                language=language.get(
                    campaign.language_mode,
                    Language.ZH if country.upper() in CHINESE_COUNTRIES else site_default,
                ),
                holdout=i in held,
                status=RecipientStatus.HOLDOUT if i in held else RecipientStatus.PENDING,
                next_attempt_at=None if i in held else now,
            )
            for i, (pk, email, country) in enumerate(rows)
        ]
        CampaignRecipient.objects.bulk_create(recipients, batch_size=5000)
        campaign.status = CampaignStatus.SENDING
        campaign.started_at = now
        if not recipients or holdout_n == len(recipients):
            campaign.status = CampaignStatus.SENT
            campaign.finished_at = now
        campaign.save(update_fields=["status", "started_at", "finished_at"])
        if campaign.status == CampaignStatus.SENDING:
            campaign_send_batch_task.delay_on_commit(campaign.pk)
        return len(recipients)


def batch_interval_seconds() -> float:
    """The pause between batches that keeps to CAMPAIGN_RATE_PER_MINUTE."""
    return 60.0 * settings.CAMPAIGN_BATCH_SIZE / max(settings.CAMPAIGN_RATE_PER_MINUTE, 1)


def campaign_send_batch(*, campaign_id: int, now: datetime | None = None) -> dict:
    """Send the next batch of due recipients over one mail connection. A failed message is
    tried again later (backoff) and marked failed after EMAIL_SEND_MAX_ATTEMPTS. Returns
    {"sent", "failed", "more"}: more is True when due recipients remain (the task queues
    the next batch after the rate-limit pause)."""
    now = now or timezone.now()
    sent = failed = 0
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_related("template")
            .filter(pk=campaign_id, status=CampaignStatus.SENDING)
            .first()
        )
        if campaign is None:
            return {"sent": 0, "failed": 0, "more": False}
        Campaign.objects.filter(pk=campaign.pk).update(last_batch_at=now)
        batch = list(
            CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer__owner", "customer__organisation")
            .filter(campaign=campaign, status=RecipientStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[: settings.CAMPAIGN_BATCH_SIZE]
        )
        connection = get_connection()
        for r in batch:
            r.attempts += 1
            try:
                msg = campaign_message(campaign, r.customer, recipient_id=r.pk, language=r.language)
                unsubscribe = unsubscribe_url(r.pk)
                email = EmailMultiAlternatives(
                    subject=msg.subject,
                    body=msg.text,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[r.email],
                    connection=connection,
                    headers={
                        "List-Unsubscribe": f"<{unsubscribe}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                        "X-CRM-Campaign": str(campaign.pk),
                    },
                )
                email.attach_alternative(msg.html, "text/html")
                email.send()
            except Exception as exc:
                r.error = f"{type(exc).__name__}: {exc}"[:2000]
                if r.attempts >= settings.EMAIL_SEND_MAX_ATTEMPTS:
                    r.status = RecipientStatus.FAILED
                    r.next_attempt_at = None
                    failed += 1
                else:
                    r.next_attempt_at = now + timedelta(seconds=retry_delay(r.attempts))
            else:
                r.status = RecipientStatus.SENT
                r.sent_at = timezone.now()
                r.error = ""
                r.next_attempt_at = None
                sent += 1
        try:
            connection.close()
        except Exception:  # a connection that broke mid-batch: the failures are recorded
            log.warning("closing the mail connection failed", exc_info=True)
        CampaignRecipient.objects.bulk_update(
            batch, ["attempts", "status", "sent_at", "error", "next_attempt_at"]
        )
        pending = CampaignRecipient.objects.filter(
            campaign=campaign, status=RecipientStatus.PENDING
        )
        more = pending.filter(next_attempt_at__lte=now).exists()
        if not more and not pending.exists():
            Campaign.objects.filter(pk=campaign.pk).update(
                status=CampaignStatus.SENT, finished_at=timezone.now()
            )
    return {"sent": sent, "failed": failed, "more": more}


def marketing_tick(*, now: datetime | None = None) -> dict:
    """The beat round: start scheduled campaigns that are due, resume campaigns whose
    retries fell due (or whose batch task was lost), re-queue lost single emails."""
    from .tasks import campaign_send_batch_task, campaign_start_task

    now = now or timezone.now()
    due = list(
        Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        campaign_start_task.delay(pk)
    # A chain of batches re-queues itself every batch_interval_seconds(); one that has not
    # run for twice that (at least two minutes) has stopped.
    quiet = now - timedelta(seconds=max(2 * batch_interval_seconds(), 120))
    resume = list(
        Campaign.objects.filter(
            Q(last_batch_at__isnull=True) | Q(last_batch_at__lt=quiet),
            status=CampaignStatus.SENDING,
            recipients__status=RecipientStatus.PENDING,
            recipients__next_attempt_at__lte=now,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    for pk in resume:
        campaign_send_batch_task.delay(pk)
    return {"started": len(due), "resumed": len(resume), "emails": requeue_stuck_emails(now=now)}


# --- signed links: unsubscribe, open, click ----------------------------------------------


def unsubscribe_url(recipient_id: int) -> str:
    token = signing.dumps(recipient_id, salt=UNSUBSCRIBE_SALT)
    return site_url(reverse("marketing:unsubscribe", args=[token]))


def open_url(recipient_id: int) -> str:
    token = signing.dumps(recipient_id, salt=OPEN_SALT)
    return site_url(reverse("marketing:track_open", args=[token]))


def click_url(recipient_id: int, url: str) -> str:
    token = signing.dumps([recipient_id, url], salt=CLICK_SALT, compress=True)
    return site_url(reverse("marketing:track_click", args=[token]))


def _recipient(token: str, salt: str) -> CampaignRecipient | None:
    try:
        pk = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    return (
        CampaignRecipient.objects.select_related("customer", "campaign").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )


def unsubscribe_recipient(token: str) -> CampaignRecipient | None:
    """The campaign recipient of a signed unsubscribe link (None for a forged or unknown
    token); a read only, for the confirmation page a GET shows."""
    return _recipient(token, UNSUBSCRIBE_SALT)


def unsubscribe(token: str) -> tuple[str, Customer | None]:
    """Withdraw the customer's marketing consent from a signed link. Returns ("done",
    customer) the first time, ("already", customer) afterwards, ("invalid", None) for a
    forged or unknown token. The withdrawal is kept with its time on the recipient row and
    on the customer's timeline."""
    recipient = _recipient(token, UNSUBSCRIBE_SALT)
    if recipient is None:
        return "invalid", None
    now = timezone.now()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=recipient.customer_id)
        if not customer.marketing_consent:
            return "already", customer
        customer.marketing_consent = False
        customer.save(update_fields=["marketing_consent", "updated_at"])
        CampaignRecipient.objects.filter(pk=recipient.pk).update(unsubscribed_at=now)
        # Staff read the timeline: the site's language, not the customer's.
        with override(settings.LANGUAGE_CODE):
            subject = _("Unsubscribed from marketing emails")
            body = _("Withdrew marketing consent from the link in campaign “%(name)s”.") % {
                "name": recipient.campaign.name
            }
        Interaction.objects.create(
            customer=customer,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            occurred_at=now,
            subject=subject,
            body=body,
        )
    return "done", customer


def record_open(token: str) -> bool:
    """Record the first open of a signed pixel link; False for a forged token."""
    try:
        recipient_id = signing.loads(token, salt=OPEN_SALT)
    except signing.BadSignature:
        return False
    if not isinstance(recipient_id, int):
        return False
    CampaignRecipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )
    return True


def record_click(token: str) -> str | None:
    """The address a signed click link stands for (only addresses we signed, i.e. that were
    in a message: no open redirect), after recording the first click (and an open)."""
    try:
        recipient_id, url = signing.loads(token, salt=CLICK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    now = timezone.now()
    CampaignRecipient.objects.filter(pk=recipient_id, clicked_at__isnull=True).update(
        clicked_at=now
    )
    CampaignRecipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(opened_at=now)
    return url
