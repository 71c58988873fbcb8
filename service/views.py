"""Thin views of the service desk: they check roles, validate forms, call services and
selectors, and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    FormView,
    ListView,
    TemplateView,
    UpdateView,
)

from crm import roles
from crm.locking import VERSION_FIELD, check_version, version_of
from crm.mixins import CapabilityRequiredMixin, ObjectActionMixin, ScopedQuerysetMixin
from customers.models import Customer

from . import selectors, services
from .choices import ArticleStatus, TicketStatus
from .filters import TicketFilter
from .forms import (
    ArticleForm,
    AssignForm,
    BulkForm,
    CannedReplyForm,
    MergeForm,
    ReplyForm,
    ResolveForm,
    SatisfactionPeriodForm,
    StatusForm,
    SurveyForm,
    TicketCreateForm,
    TicketEditForm,
)
from .models import Article, ArticleCategory, CannedReply, Ticket


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or the form when unknown)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- queue ------------------------------------------------------------------------------------


class TicketListView(ListView):
    """The queue: tabs (unassigned, mine, breaching soon, all open, all), filters, sorting,
    pagination, and bulk close for those who work tickets."""

    template_name = "service/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 30

    def get_queryset(self):
        user = self.request.user
        tabs = selectors.tabs_for(user)
        tab = self.request.GET.get("tab") or selectors.default_tab(user)
        self.tab = tab if tab in tabs else selectors.default_tab(user)
        qs = selectors.ticket_queue(user=user, tab=self.tab)
        self.filterset = TicketFilter(self.request.GET or None, queryset=qs, request=self.request)
        if self.filterset.is_bound and self.filterset.is_valid():
            return self.filterset.qs
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        counts = selectors.tab_counts(user=user)
        ctx.update(
            filter=self.filterset,
            tab=self.tab,
            tabs=[(t, selectors.TABS[t], counts[t]) for t in selectors.tabs_for(user)],
            can_work=roles.can(user, "close", Ticket),
            can_add=roles.can(user, "add", Ticket),
            filtered=any(
                v for k, v in self.request.GET.items() if k not in ("tab", "page", "sort")
            ),
        )
        return ctx


class TicketBulkView(View):
    """Bulk actions on the tickets ticked in the queue."""

    def post(self, request):
        if not roles.can(request.user, "close", Ticket):
            raise PermissionDenied
        form = BulkForm(request.POST)
        back = request.POST.get("next") or reverse("service:ticket_list")
        if not back.startswith("/"):
            back = reverse("service:ticket_list")
        if not form.is_valid():
            messages.error(request, _("Select at least one ticket."))
            return redirect(back)
        tickets = list(
            roles.visible(request.user, Ticket).filter(pk__in=form.cleaned_data["tickets"])
        )
        try:
            closed = services.ticket_bulk_close(user=request.user, tickets=tickets)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back)
        messages.success(request, _("Tickets closed: %(count)s.") % {"count": closed})
        return redirect(back)


class TicketCreateView(FormView):
    template_name = "service/ticket_form.html"
    form_class = TicketCreateForm

    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, "add", Ticket):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"customer": self.request.GET.get("customer", "")}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        given = self.request.GET.get("customer", "")
        if given.isdigit():
            ctx["for_customer"] = (
                roles.visible(self.request.user, Customer).filter(pk=int(given)).first()
            )
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                user=self.request.user,
                customer=data["customer"],
                subject=data["subject"],
                problem=data["problem"],
                category=data["category"],
                priority=data["priority"],
                channel=data["channel"],
                order=data["order"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Ticket #%(id)s opened.") % {"id": ticket.pk})
        return redirect(ticket)


class TicketUpdateView(ObjectActionMixin, UpdateView):
    model = Ticket
    form_class = TicketEditForm
    template_name = "service/ticket_form.html"
    object_action = "change"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["version"] = version_of(self.object)
        return ctx

    def form_valid(self, form):
        try:
            with transaction.atomic():
                conflict = check_version(
                    self.object,
                    self.request.POST.get(VERSION_FIELD),
                    submitted=form.cleaned_data,
                )
                if conflict is None:
                    services.ticket_update(
                        ticket=self.object, user=self.request.user, **form.cleaned_data
                    )
        except ValidationError as exc:
            _apply_errors(form, exc)
            return self.form_invalid(form)
        if conflict is not None:
            return self.render_to_response(
                self.get_context_data(form=form, conflict=conflict), status=409
            )
        messages.success(self.request, _("Ticket saved."))
        return redirect(self.object)


# --- ticket page ------------------------------------------------------------------------------


class TicketDetailView(ScopedQuerysetMixin, DetailView):
    """The ticket page: conversation, customer card, status history, due times and, for
    those who work tickets, the reply, resolve, assign and merge forms with suggestions."""

    model = Ticket
    template_name = "service/ticket_detail.html"
    context_object_name = "ticket"
    forms: dict = {}

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("customer__owner", "assignee", "order", "merged_into")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ticket = self.object
        user = self.request.user
        can_work = roles.can(user, "reply", ticket)
        comments = ticket.comments.select_related("author")
        ctx.update(
            comments=comments,
            history=ticket.status_changes.select_related("changed_by"),
            breaches=list(ticket.breaches.all()),
            merged_tickets=list(ticket.merged_tickets.only("pk", "subject")),
            feedback=list(ticket.feedback.all()),
            sla_state=ticket.sla_state(),
            can_work=can_work,
            can_edit=roles.can(user, "change", ticket),
            **selectors.customer_card(user=user, ticket=ticket),
        )
        if can_work:
            forms = {
                "reply_form": ReplyForm(),
                "resolve_form": ResolveForm(initial={"solution": ticket.solution}),
                "assign_form": AssignForm(initial={"assignee": ticket.assignee_id}),
                "status_form": StatusForm(ticket=ticket),
                "merge_form": MergeForm(),
            }
            forms.update(self.forms)
            ctx.update(forms)
            ctx["canned_replies"] = list(
                roles.visible(user, CannedReply).only("title", "body", "category")
            )
            ctx["suggestions"] = selectors.suggestions_for(ticket=ticket)
        return ctx


class TicketActionView(View):
    """POST one action on a ticket: 404 if the user cannot see it, 403 if they may not do
    it; a form error re-renders the ticket page with the message at the field."""

    action = ""
    form_class = None
    form_name = ""

    def post(self, request, pk):
        ticket = get_object_or_404(
            roles.visible(request.user, Ticket).select_related("customer", "assignee"), pk=pk
        )
        if not roles.can(request.user, self.action, ticket):
            raise PermissionDenied
        form = self.form_class(request.POST, **self.form_kwargs(ticket))
        if form.is_valid():
            try:
                message = self.perform(ticket, form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, message)
                return redirect(ticket)
        view = TicketDetailView(request=request, kwargs={"pk": pk}, args=())
        view.forms = {self.form_name: form}
        view.object = view.get_object()
        return render(
            request, view.template_name, view.get_context_data(object=view.object), status=400
        )

    def form_kwargs(self, ticket) -> dict:
        return {}

    def perform(self, ticket, data) -> str:
        """Do the action with the form's cleaned data; returns the success message.
        Every subclass defines it (the base is never routed to)."""
        raise TypeError(f"{type(self).__name__} does not define perform()")


class TicketReplyView(TicketActionView):
    action = "reply"
    form_class = ReplyForm
    form_name = "reply_form"

    def perform(self, ticket, data):
        services.ticket_reply(
            ticket=ticket,
            user=self.request.user,
            body=data["body"],
            public=data["public"],
            then_status=data["then_status"],
        )
        if data["public"]:
            return _("Reply sent to the customer.")
        return _("Internal note added.")


class TicketResolveView(TicketActionView):
    action = "resolve"
    form_class = ResolveForm
    form_name = "resolve_form"

    def perform(self, ticket, data):
        services.ticket_resolve(ticket=ticket, user=self.request.user, solution=data["solution"])
        return _("Ticket resolved; the customer was asked for feedback.")


class TicketAssignView(TicketActionView):
    action = "assign"
    form_class = AssignForm
    form_name = "assign_form"

    def post(self, request, pk):
        if request.POST.get("take") == "1":
            data = request.POST.copy()
            data["assignee"] = str(request.user.pk)
            request.POST = data
        return super().post(request, pk)

    def perform(self, ticket, data):
        services.ticket_assign(ticket=ticket, assignee=data["assignee"], user=self.request.user)
        if data["assignee"] is None:
            return _("Ticket unassigned.")
        return _("Ticket assigned to %(name)s.") % {"name": data["assignee"].get_username()}


class TicketStatusView(TicketActionView):
    action = "change"
    form_class = StatusForm
    form_name = "status_form"

    def form_kwargs(self, ticket):
        return {"ticket": ticket}

    def perform(self, ticket, data):
        services.ticket_set_status(ticket=ticket, status=data["status"], user=self.request.user)
        return _("Status set to %(status)s.") % {"status": TicketStatus(data["status"]).label}


class TicketMergeView(TicketActionView):
    action = "merge"
    form_class = MergeForm
    form_name = "merge_form"

    def perform(self, ticket, data):
        into = roles.visible(self.request.user, Ticket).filter(pk=data["into"]).first()
        if into is None:
            raise ValidationError({"into": _("There is no ticket with this number.")})
        services.ticket_merge(user=self.request.user, duplicate=ticket, into=into)
        return _("Merged into #%(id)s.") % {"id": into.pk}


# --- survey (public) ----------------------------------------------------------------------


@login_not_required
@never_cache
@csrf_protect
def survey(request, token: str):
    """The public survey page behind a one-time link: the questions and nothing else."""
    try:
        invitation = services.invitation_from_token(token)
    except services.SurveyClosed:
        response = render(request, "service/survey_closed.html", status=410)
        return _private(response)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.feedback_submit(
                invitation=invitation,
                csat=data["csat"],
                ces=data["ces"],
                nps=data["nps"],
                comment=data["comment"],
            )
        except services.SurveyClosed:
            return _private(render(request, "service/survey_closed.html", status=410))
        return _private(render(request, "service/survey_thanks.html"))
    status = 400 if request.method == "POST" else 200
    response = render(
        request,
        "service/survey.html",
        {"form": form, "ticket_number": invitation.ticket_id},
        status=status,
    )
    return _private(response)


def _private(response):
    # The token is in the URL: never send it to another site in a Referer (same-origin, not
    # no-referrer, which makes browsers post "Origin: null" and fail the CSRF check), and
    # never let a search engine keep the page.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- satisfaction figures -----------------------------------------------------------------


class SatisfactionView(CapabilityRequiredMixin, TemplateView):
    capability = "view_service_figures"
    template_name = "service/satisfaction.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        start, end = selectors.default_period()
        form = SatisfactionPeriodForm(self.request.GET or {"start": start, "end": end})
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        figures = selectors.satisfaction_figures(user=self.request.user, start=start, end=end)
        chart = {
            "labels": [r["month"].strftime("%Y-%m") for r in figures["per_month"] if r["month"]],
            "csat": [r["csat_pct"] for r in figures["per_month"] if r["month"]],
            "nps": [r["nps"] for r in figures["per_month"] if r["month"]],
            "answers": [r["answers"] for r in figures["per_month"] if r["month"]],
            "csat_label": _("CSAT (share satisfied)"),
            "nps_label": _("NPS"),
        }
        ctx.update(form=form, chart=chart, **figures)
        return ctx


# --- knowledge base -----------------------------------------------------------------------


class ArticleListView(ListView):
    template_name = "service/article_list.html"
    context_object_name = "articles"
    paginate_by = 20

    def get_queryset(self):
        qs = roles.visible(self.request.user, Article).select_related("category", "author")
        self.q = self.request.GET.get("q", "").strip()
        self.category = self.request.GET.get("category", "")
        self.status = self.request.GET.get("status", "")
        if self.q:
            qs = qs.search(self.q)
        if self.category.isdigit():
            qs = qs.filter(category_id=int(self.category))
        if self.status in ArticleStatus.values:
            qs = qs.filter(status=self.status)
        return qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            q=self.q,
            category=self.category,
            status=self.status,
            categories=ArticleCategory.objects.all(),
            statuses=ArticleStatus.choices,
            can_add=roles.can(self.request.user, "add", Article),
            can_use_canned=roles.can(self.request.user, "view", CannedReply),
            **kwargs,
        )


class ArticleDetailView(ScopedQuerysetMixin, DetailView):
    model = Article
    template_name = "service/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return super().get_queryset().select_related("category", "author")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_edit=roles.can(self.request.user, "change", self.object), **kwargs
        )


class ArticleCreateView(CreateView):
    model = Article
    form_class = ArticleForm
    template_name = "service/article_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, "add", Article):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        form.instance.author = self.request.user
        messages.success(self.request, _("Article saved."))
        return super().form_valid(form)


class ArticleUpdateView(ObjectActionMixin, UpdateView):
    model = Article
    form_class = ArticleForm
    template_name = "service/article_form.html"

    def form_valid(self, form):
        messages.success(self.request, _("Article saved."))
        return super().form_valid(form)


# --- canned replies -----------------------------------------------------------------------


class CannedReplyListView(ListView):
    template_name = "service/cannedreply_list.html"
    context_object_name = "replies"
    paginate_by = 30

    def get_queryset(self):
        if not roles.can(self.request.user, "view", CannedReply):
            raise PermissionDenied
        qs = roles.visible(self.request.user, CannedReply)
        self.q = self.request.GET.get("q", "").strip()
        if self.q:
            qs = qs.filter(Q(title__icontains=self.q) | Q(body__icontains=self.q))
        return qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(q=self.q, **kwargs)


class CannedReplyCreateView(CreateView):
    model = CannedReply
    form_class = CannedReplyForm
    template_name = "service/cannedreply_form.html"
    success_url = reverse_lazy("service:cannedreply_list")

    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, "add", CannedReply):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        messages.success(self.request, _("Canned reply saved."))
        return super().form_valid(form)


class CannedReplyUpdateView(ObjectActionMixin, UpdateView):
    model = CannedReply
    form_class = CannedReplyForm
    template_name = "service/cannedreply_form.html"
    success_url = reverse_lazy("service:cannedreply_list")

    def form_valid(self, form):
        messages.success(self.request, _("Canned reply saved."))
        return super().form_valid(form)


class CannedReplyDeleteView(ObjectActionMixin, DeleteView):
    model = CannedReply
    object_action = "delete"
    template_name = "service/cannedreply_confirm_delete.html"
    success_url = reverse_lazy("service:cannedreply_list")

    def form_valid(self, form):
        messages.success(self.request, _("Canned reply deleted."))
        return super().form_valid(form)
