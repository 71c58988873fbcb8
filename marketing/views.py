"""Views of the marketing app: thin, they call selectors and services.

Templates and campaigns are for managers and admins (403 for the others); writing to a
customer follows selectors.may_write_to (another rep's customer is a 404). The tracking
links (unsubscribe, open, click) are public: they carry a signed token instead of a login.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import ProtectedError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from crm import roles
from crm.mixins import CapabilityRequiredMixin

from . import rendering, selectors, services
from .choices import CampaignStatus, RecipientStatus
from .forms import CampaignForm, ComposeForm, EmailTemplateForm, ScheduleForm
from .models import Campaign, CampaignRecipient, EmailTemplate

CAPABILITY = "manage_marketing"


def _require_manager(request) -> None:
    if not roles.may(request.user, CAPABILITY):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- one email to a customer --------------------------------------------------------------


def email_compose(request, pk: int):
    """Write to one customer: template (optional), preview, attachments, send."""
    customer = selectors.writable_customer(request.user, pk)
    preview = None
    # The customer's language (Chinese for a Chinese-speaking country), else the site's.
    language = services.language_for("auto", customer)
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES)
        action = request.POST.get("action", "preview")
        if form.is_valid():
            data = form.cleaned_data
            if action == "send":
                try:
                    services.email_compose_send(
                        user=request.user,
                        customer=customer,
                        subject=data["subject"],
                        body=data["body"],
                        language=data["language"],
                        template=data["template"],
                        files=data["attachments"],
                    )
                except ValidationError as exc:
                    _apply_errors(form, exc)
                else:
                    messages.success(request, _("The email is queued for sending."))
                    return redirect(customer)
            else:
                preview = rendering.render_message(
                    data["subject"], data["body"], rendering.customer_context(customer)
                )
                # Show what the template filled in, so the writer can edit it.
                form = ComposeForm(
                    initial={
                        "template": data["template"],
                        "language": data["language"],
                        "subject": data["subject"],
                        "body": data["body"],
                    }
                )
                if request.FILES:
                    messages.info(request, _("Choose the attachments again before sending."))
    else:
        form = ComposeForm(initial={"language": language})
    return render(
        request,
        "marketing/email_compose.html",
        {"customer": customer, "form": form, "preview": preview, "fields": rendering.FIELDS},
    )


def email_detail(request, pk: int):
    email = get_object_or_404(
        selectors.emails_of(request.user).select_related("customer", "sender"), pk=pk
    )
    return render(
        request,
        "marketing/email_detail.html",
        {"email": email, "attachments": list(email.attachments.all())},
    )


# --- templates --------------------------------------------------------------------------


class ManagerMixin(CapabilityRequiredMixin):
    capability = CAPABILITY


class TemplateListView(ManagerMixin, ListView):
    model = EmailTemplate
    template_name = "marketing/template_list.html"
    context_object_name = "templates"
    paginate_by = 25


class TemplateCreateView(ManagerMixin, CreateView):
    model = EmailTemplate
    form_class = EmailTemplateForm
    template_name = "marketing/template_form.html"
    success_url = reverse_lazy("marketing:template_list")

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        messages.success(self.request, _("Template saved."))
        return super().form_valid(form)


class TemplateUpdateView(ManagerMixin, UpdateView):
    model = EmailTemplate
    form_class = EmailTemplateForm
    template_name = "marketing/template_form.html"
    success_url = reverse_lazy("marketing:template_list")

    def form_valid(self, form):
        messages.success(self.request, _("Template saved."))
        return super().form_valid(form)


class TemplateDeleteView(ManagerMixin, DeleteView):
    model = EmailTemplate
    template_name = "marketing/template_confirm_delete.html"
    success_url = reverse_lazy("marketing:template_list")

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(self.request, _("A campaign uses this template: it cannot be deleted."))
            return redirect("marketing:template_list")


# --- campaigns --------------------------------------------------------------------------


class CampaignListView(ManagerMixin, ListView):
    template_name = "marketing/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = 25

    def get_queryset(self):
        return selectors.campaign_list()


class CampaignFormMixin(ManagerMixin):
    model = Campaign
    form_class = CampaignForm
    template_name = "marketing/campaign_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        campaign = form.instance
        campaign.segment_label = campaign.segment.label if campaign.segment else ""
        campaign.segment_key = services.segment_key(campaign.segment) if campaign.segment else ""
        campaign.saved_query = campaign.saved_view.query_string if campaign.saved_view else ""
        if not campaign.created_by_id:
            campaign.created_by = self.request.user
        return super().form_valid(form)


class CampaignCreateView(CampaignFormMixin, CreateView):
    pass


class CampaignUpdateView(CampaignFormMixin, UpdateView):
    def get_queryset(self):
        return Campaign.objects.filter(status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED])


def campaign_detail(request, pk: int):
    """A draft: the recipients it would reach and one rendered message, with send and
    schedule; a started campaign: its progress (htmx polling) and a link to the results."""
    _require_manager(request)
    campaign = get_object_or_404(
        Campaign.objects.select_related("template", "segment", "saved_view", "created_by"), pk=pk
    )
    ctx = {"campaign": campaign, "tags": list(campaign.tags.all())}
    if campaign.is_editable:
        ctx["preview"] = services.campaign_preview(campaign)
        ctx["schedule_form"] = ScheduleForm(
            initial={"send_at": campaign.scheduled_at} if campaign.scheduled_at else None
        )
    else:
        ctx["progress"] = selectors.campaign_progress(campaign)
    return render(request, "marketing/campaign_detail.html", ctx)


@require_POST
def campaign_send(request, pk: int):
    _require_manager(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.is_editable:
        messages.info(request, _("This campaign has already started."))
        return redirect(campaign)
    count = services.campaign_start(campaign_id=campaign.pk)
    messages.success(
        request,
        _("Sending started: %(count)s customers (holdout included).") % {"count": count},
    )
    return redirect(campaign)


@require_POST
def campaign_schedule(request, pk: int):
    _require_manager(request)
    campaign = get_object_or_404(
        Campaign.objects.select_related("template", "segment", "saved_view", "created_by"), pk=pk
    )
    if "cancel" in request.POST:
        services.campaign_schedule(campaign=campaign, when=None)
        messages.success(request, _("The schedule is cancelled; the campaign is a draft again."))
        return redirect(campaign)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.campaign_schedule(campaign=campaign, when=form.cleaned_data["send_at"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The campaign is scheduled."))
        return redirect(campaign)
    ctx = {"campaign": campaign, "tags": list(campaign.tags.all()), "schedule_form": form}
    if campaign.is_editable:
        ctx["preview"] = services.campaign_preview(campaign)
    return render(request, "marketing/campaign_detail.html", ctx, status=400)


@require_POST
def campaign_delete(request, pk: int):
    _require_manager(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.is_editable:
        messages.error(request, _("A campaign that has started is kept for its results."))
        return redirect(campaign)
    campaign.delete()
    messages.success(request, _("Campaign deleted."))
    return redirect("marketing:campaign_list")


def campaign_progress(request, pk: int):
    """The progress bar (htmx polls it while the campaign is sending)."""
    _require_manager(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    return render(
        request,
        "marketing/partials/campaign_progress.html",
        {"campaign": campaign, "progress": selectors.campaign_progress(campaign)},
    )


def campaign_results(request, pk: int):
    """Counts, revenue against the holdout, charts and the recipients, a page at a time."""
    _require_manager(request)
    campaign = get_object_or_404(Campaign.objects.select_related("template"), pk=pk)
    counts = selectors.campaign_counts(campaign)
    revenue = selectors.campaign_revenue(campaign)
    status = request.GET.get("status", "")
    recipients = CampaignRecipient.objects.filter(campaign=campaign).select_related("customer")
    if status in RecipientStatus.values:
        recipients = recipients.filter(status=status)
    page = Paginator(recipients.order_by("id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "marketing/campaign_results.html",
        {
            "campaign": campaign,
            "counts": counts,
            "revenue": revenue,
            "charts": selectors.campaign_charts(counts, revenue),
            "page_obj": page,
            "recipients": page.object_list,
            "status": status,
            "statuses": RecipientStatus.choices,
        },
    )


# --- public links -----------------------------------------------------------------------


@login_not_required
@never_cache
# RFC 8058 one-click: mail clients POST here without a session or CSRF token; the
# confirmation form posts the same way, so it works in a browser that has no session.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET asks (mail scanners and link previews fetch links: a GET changes nothing); POST,
    from the page's button or a mail client's one-click, withdraws the consent."""
    recipient = services.unsubscribe_recipient(token)
    if recipient is None:
        return render(request, "marketing/unsubscribe.html", {"outcome": "invalid"}, status=404)
    if request.method == "POST":
        outcome, customer = services.unsubscribe(token)
    else:
        customer = recipient.customer
        outcome = "confirm" if customer.marketing_consent else "already"
    # The language the email was written in, so the page reads like the message, unless
    # the visitor chose one with the page's language switcher.
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        language = request.LANGUAGE_CODE
    else:
        language = recipient.language or settings.LANGUAGE_CODE
    with translation.override(language):
        response = render(
            request,
            "marketing/unsubscribe.html",
            {
                "outcome": outcome,
                "customer": customer,
                "address": recipient.email,
                "sender": settings.DEFAULT_FROM_EMAIL,
            },
        )
    response.headers["Content-Language"] = language
    return response


PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@login_not_required
@never_cache
def track_open(request, token: str):
    # A forged token is a 404 like the other signed links; the body is still the pixel, so
    # a mail client shows no broken image.
    status = 200 if services.record_open(token) else 404
    return HttpResponse(PIXEL, content_type="image/gif", status=status)


@login_not_required
@never_cache
def track_click(request, token: str):
    url = services.record_click(token)
    if url is None:
        return HttpResponseBadRequest(_("This link is not valid."))
    return HttpResponseRedirect(url)
