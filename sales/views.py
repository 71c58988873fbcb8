"""Thin views over the selectors and services of sales."""

from __future__ import annotations

import csv
import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from crm import roles
from crm.exporting import cell
from crm.locking import VERSION_FIELD, check_version, version_of
from crm.mixins import CapabilityRequiredMixin, ScopedQuerysetMixin
from crm.security import safe_next
from crm.templatetags.crm_tags import money
from customers.models import Customer
from customers.pagination import FastPaginator

from . import selectors, services
from .filters import DealFilter, OrderFilter, ProductFilter
from .forms import (
    DealForm,
    DealLineFormSet,
    DealMoveForm,
    OrderForm,
    OrderLineFormSet,
    OrderStatusForm,
    ReportFilterForm,
    TaskForm,
    product_choices,
)
from .models import Deal, Notification, Order, Product, Task
from .reports import REPORTS, build_reports


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _visible_customer(request, customer_id) -> Customer:
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(roles.visible(request.user, Customer), pk=pk)


def _search_deals(deals, q: str):
    """The board's search: title or customer name (the same for its column totals)."""
    q = q.strip()
    if not q:
        return deals
    return deals.filter(Q(title__icontains=q) | Q(customer__name__icontains=q))


class ModelAccessMixin:
    """403 unless the role may `model_action` the model at all (agents and deals), before
    any object lookup; object lookups are scoped, so another user's object is a 404."""

    access_model = None
    model_action = "view"

    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, self.model_action, self.access_model):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


# ---------------------------------------------------------------- deals


class DealListView(ModelAccessMixin, ListView):
    access_model = Deal
    template_name = "sales/deal_list.html"
    context_object_name = "deals"
    paginate_by = 25

    def get_queryset(self):
        self.filterset = DealFilter(
            self.request.GET or None,
            queryset=selectors.deal_queryset(user=self.request.user),
            show_owner=roles.may(self.request.user, "reassign_work"),
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class DealBoardView(ModelAccessMixin, View):
    """The pipeline as columns; cards move by drag and drop (static/js/sales.js) or by the
    small form on each card, both posting to DealMoveView."""

    access_model = Deal

    def get(self, request):
        pipelines = selectors.active_pipelines()
        if not pipelines:
            return render(request, "sales/deal_board.html", {"pipelines": [], "columns": []})
        wanted = request.GET.get("pipeline", "")
        pipeline = next((p for p in pipelines if str(p.pk) == wanted), pipelines[0])
        deals = selectors.deal_queryset(user=request.user)
        show_owner = roles.may(request.user, "reassign_work")
        owner_id = request.GET.get("owner", "")
        owners = []
        if show_owner:
            owners = list(selectors.sellers().only("id", "username"))
            if owner_id.isdigit():
                deals = deals.filter(owner_id=int(owner_id))
        q = request.GET.get("q", "").strip()
        deals = _search_deals(deals, q)
        columns = selectors.board_columns(deals=deals, pipeline=pipeline)
        stages = [c.stage for c in columns]
        for column in columns:
            # Every card of a column is in its stage: one <select> body serves them all.
            column.move_options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (s.pk, mark_safe(" selected") if s.pk == column.stage.pk else "", s.name)  # nosec B308 B703 - a constant attribute
                    for s in stages
                ),
            )
        return render(
            request,
            "sales/deal_board.html",
            {
                "pipelines": pipelines,
                "pipeline": pipeline,
                "columns": columns,
                "stages": stages,
                "owners": owners,
                "owner_id": owner_id,
                "q": q,
                "lost_reasons": DealMoveForm.base_fields["lost_reason"].choices,
                "card_limit": selectors.BOARD_CARDS_PER_STAGE,
                "today": timezone.localdate(),
            },
        )


class DealDetailView(ModelAccessMixin, ScopedQuerysetMixin, DetailView):
    access_model = Deal
    model = Deal
    template_name = "sales/deal_detail.html"
    context_object_name = "deal"

    def get_queryset(self):
        return (
            super().get_queryset().select_related("customer", "stage", "pipeline", "owner", "order")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        deal = self.object
        stages = list(deal.pipeline.stages.all())
        ctx.update(
            lines=deal.lines.select_related("product"),
            changes=deal.stage_changes.select_related("from_stage", "to_stage", "user"),
            tasks=roles.visible(self.request.user, Task)
            .filter(deal=deal)
            .select_related("assignee"),
            move_form=kwargs.get("move_form") or DealMoveForm(deal=deal, stages=stages),
            can_change=roles.can(self.request.user, "change", deal),
        )
        return ctx


class DealMoveView(ModelAccessMixin, View):
    """POST a stage (and a lost reason for a lost stage). JSON for the board's script,
    a redirect (or the deal page with the error, status 400) for the plain form."""

    access_model = Deal
    model_action = "move"

    def post(self, request, pk):
        deal = get_object_or_404(selectors.deal_queryset(user=request.user), pk=pk)
        if not roles.can(request.user, "move", deal):
            raise PermissionDenied
        stages = list(deal.pipeline.stages.all())
        form = DealMoveForm(request.POST, deal=deal, stages=stages)
        error = ""
        result = None
        if form.is_valid():
            try:
                result = services.deal_move(
                    deal=deal,
                    stage=form.cleaned_data["stage"],
                    user=request.user,
                    lost_reason=form.cleaned_data["lost_reason"],
                    lost_note=form.cleaned_data["lost_note"],
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
                field = "lost_reason" if form.cleaned_data["stage"].is_lost else "stage"
                form.add_error(field, error)
        else:
            error = " ".join(m for errs in form.errors.values() for m in errs)
        if result is None:
            if _wants_json(request):
                return JsonResponse({"ok": False, "message": error}, status=400)
            view = DealDetailView()
            view.setup(request, pk=pk)
            view.object = deal
            ctx = view.get_context_data(object=deal, move_form=form)
            return render(request, DealDetailView.template_name, ctx, status=400)
        message = _("“%(deal)s” is now in %(stage)s.") % {
            "deal": result.deal.title,
            "stage": result.deal.stage.name,
        }
        order_url = ""
        if result.order is not None:
            order_url = result.order.get_absolute_url()
            message += " " + _("Order %(order)s was created from its products.") % {
                "order": result.order
            }
        if _wants_json(request):
            totals = selectors.column_totals(
                deals=self._board_scope(request), pipeline_id=deal.pipeline_id
            )
            return JsonResponse(
                {
                    "ok": True,
                    "message": message,
                    "stage": result.deal.stage_id,
                    "order_url": order_url,
                    "columns": {
                        str(s.pk): {
                            "count": totals.get(s.pk, {}).get("count", 0),
                            "total": money(totals.get(s.pk, {}).get("total", 0)),
                        }
                        for s in stages
                    },
                }
            )
        messages.success(request, message)
        return HttpResponseRedirect(safe_next(request, result.deal.get_absolute_url()))

    def _board_scope(self, request):
        deals = selectors.deal_queryset(user=request.user)
        owner = request.POST.get("owner", "")
        if owner.isdigit() and roles.may(request.user, "reassign_work"):
            deals = deals.filter(owner_id=int(owner))
        return _search_deals(deals, request.POST.get("q", ""))


class DealFormMixin(ModelAccessMixin):
    access_model = Deal
    template_name = "sales/deal_form.html"

    def owners(self):
        if roles.may(self.request.user, "reassign_work"):
            return selectors.sellers()
        return None

    def render_form(self, form, formset, status=200, **extra):
        ctx = {"form": form, "formset": formset, **extra}
        if extra.get("deal") is not None:
            ctx.setdefault("version", version_of(extra["deal"]))
        return render(self.request, self.template_name, ctx, status=status)


class DealCreateView(DealFormMixin, View):
    """A new deal for a customer, started from the customer's page."""

    model_action = "add"

    def dispatch(self, request, *args, **kwargs):
        if roles.can(request.user, "add", Deal) and not request.GET.get("customer"):
            messages.info(request, _("Open a customer and start the deal from their page."))
            return redirect("customers:customer_list")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        customer = _visible_customer(request, request.GET.get("customer"))
        form = DealForm(owners=self.owners(), initial={"owner": request.user.pk})
        formset = DealLineFormSet(
            prefix="lines", form_kwargs={"product_choices": product_choices()}
        )
        return self.render_form(form, formset, customer=customer)

    def post(self, request):
        customer = _visible_customer(request, request.GET.get("customer"))
        form = DealForm(request.POST, owners=self.owners())
        formset = DealLineFormSet(
            request.POST, prefix="lines", form_kwargs={"product_choices": product_choices()}
        )
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            stage = data["stage"]
            try:
                deal = services.deal_create(
                    customer=customer,
                    title=data["title"],
                    pipeline=stage.pipeline,
                    stage=stage,
                    owner=data.get("owner") or request.user,
                    user=request.user,
                    amount=data.get("amount") or 0,
                    expected_close=data.get("expected_close"),
                    lines=formset.lines(),
                    lost_reason=data.get("lost_reason", ""),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Deal “%(deal)s” created.") % {"deal": deal.title})
                return redirect(deal)
        return self.render_form(form, formset, status=400, customer=customer)


class DealUpdateView(DealFormMixin, View):
    model_action = "change"

    def get_deal(self, request, pk) -> Deal:
        deal = get_object_or_404(selectors.deal_queryset(user=request.user), pk=pk)
        if not roles.can(request.user, "change", deal):
            raise PermissionDenied
        return deal

    def get(self, request, pk):
        deal = self.get_deal(request, pk)
        lines = list(deal.lines.all())
        form = DealForm(
            owners=self.owners(),
            editing=True,
            initial={
                "title": deal.title,
                "owner": deal.owner_id,
                "amount": deal.amount,
                "expected_close": deal.expected_close,
            },
        )
        formset = DealLineFormSet(
            prefix="lines",
            initial=[
                {"product": li.product_id, "quantity": li.quantity, "unit_price": li.unit_price}
                for li in lines
            ],
            form_kwargs={"product_choices": product_choices(li.product_id for li in lines)},
        )
        return self.render_form(form, formset, customer=deal.customer, deal=deal)

    def post(self, request, pk):
        deal = self.get_deal(request, pk)
        form = DealForm(request.POST, owners=self.owners(), editing=True)
        extra_ids = deal.lines.values_list("product_id", flat=True)
        formset = DealLineFormSet(
            request.POST,
            prefix="lines",
            form_kwargs={"product_choices": product_choices(extra_ids)},
        )
        locked = deal.order_id is not None  # the lines became an order; change that instead
        if form.is_valid() and (locked or formset.is_valid()):
            data = form.cleaned_data
            with transaction.atomic():
                conflict = check_version(
                    deal, request.POST.get(VERSION_FIELD), submitted=form.cleaned_data
                )
                if conflict is None:
                    services.deal_update(
                        deal=deal,
                        title=data["title"],
                        owner=data.get("owner") or deal.owner,
                        amount=deal.amount if locked else (data.get("amount") or 0),
                        expected_close=data.get("expected_close"),
                        lines=None if locked else formset.lines(),
                    )
            if conflict is not None:
                return self.render_form(
                    form, formset, status=409, customer=deal.customer, deal=deal, conflict=conflict
                )
            messages.success(request, _("Deal “%(deal)s” saved.") % {"deal": deal.title})
            return redirect(deal)
        return self.render_form(form, formset, status=400, customer=deal.customer, deal=deal)


# ---------------------------------------------------------------- orders


class OrderListView(ModelAccessMixin, ListView):
    """Orders the user may see, with filters and sorting."""

    access_model = Order
    template_name = "sales/order_list.html"
    context_object_name = "orders"
    paginate_by = 25
    # A million orders: the unfiltered count is PostgreSQL's estimate (COUNT(*) took 60-180
    # ms), far pages walk the index backwards, and a page loads its rows by id.
    paginator_class = FastPaginator

    def get_queryset(self):
        self.filterset = OrderFilter(
            self.request.GET or None, queryset=selectors.order_queryset(user=self.request.user)
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


class OrderDetailView(ModelAccessMixin, ScopedQuerysetMixin, DetailView):
    access_model = Order
    model = Order
    template_name = "sales/order_detail.html"
    context_object_name = "order"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "created_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["lines"] = self.object.lines.select_related("product")
        deal = Deal.objects.filter(order=self.object).first()
        ctx["deal"] = deal if deal and roles.can(self.request.user, "view", deal) else None
        if roles.can(self.request.user, "change", self.object):
            ctx["status_form"] = OrderStatusForm(initial={"status": self.object.status})
        return ctx


class OrderStatusView(ModelAccessMixin, View):
    """Managers and admins move an order along (shipped, completed) or cancel it."""

    access_model = Order
    model_action = "change"

    def post(self, request, pk):
        order = get_object_or_404(roles.visible(request.user, Order), pk=pk)
        if not roles.can(request.user, "change", order):
            raise PermissionDenied
        form = OrderStatusForm(request.POST)
        if form.is_valid():
            services.order_set_status(order=order, status=form.cleaned_data["status"])
            messages.success(
                request,
                _("Order %(order)s is now %(status)s.")
                % {"order": order, "status": order.get_status_display()},
            )
        else:
            messages.error(request, _("Choose a valid status."))
        return redirect(order)


class OrderCreateView(ModelAccessMixin, View):
    """An order entered by hand, started from the customer's page."""

    access_model = Order
    model_action = "add"
    template_name = "sales/order_form.html"

    def forms(self, request):
        data = request.POST if request.method == "POST" else None
        form = OrderForm(
            data,
            initial={
                "status": "confirmed",
                "ordered_at": timezone.localtime().replace(second=0, microsecond=0),
            },
        )
        formset = OrderLineFormSet(
            data, prefix="lines", form_kwargs={"product_choices": product_choices()}
        )
        return form, formset

    def get(self, request):
        customer = _visible_customer(request, request.GET.get("customer"))
        form, formset = self.forms(request)
        return render(
            request, self.template_name, {"form": form, "formset": formset, "customer": customer}
        )

    def post(self, request):
        customer = _visible_customer(request, request.GET.get("customer"))
        form, formset = self.forms(request)
        if form.is_valid() and formset.is_valid():
            order = services.order_create(
                customer=customer,
                lines=formset.lines(),
                created_by=request.user,
                status=form.cleaned_data["status"],
                ordered_at=form.cleaned_data["ordered_at"],
            )
            messages.success(request, _("Order %(order)s saved.") % {"order": order})
            return redirect(order)
        ctx = {"form": form, "formset": formset, "customer": customer}
        return render(request, self.template_name, ctx, status=400)


class ProductListView(ModelAccessMixin, ListView):
    """The catalogue with list prices, for looking up a product while selling; admins
    maintain it in the admin site."""

    access_model = Product
    template_name = "sales/product_list.html"
    context_object_name = "products"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = ProductFilter(self.request.GET or None, queryset=Product.objects.all())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter=self.filterset, **kwargs)


# ---------------------------------------------------------------- tasks


class TaskListView(ModelAccessMixin, ListView):
    """My tasks, overdue first; managers may look at anyone's or everyone's."""

    access_model = Task
    template_name = "sales/task_list.html"
    context_object_name = "tasks"
    paginate_by = 25

    def get_queryset(self):
        request = self.request
        qs = selectors.task_queryset(user=request.user)
        self.state = request.GET.get("state", "open")
        if self.state == "open":
            qs = qs.filter(done=False)
        elif self.state == "done":
            qs = qs.filter(done=True)
        self.assignee = request.GET.get("assignee", "me")
        self.show_assignee = roles.may(request.user, "reassign_work")
        if not self.show_assignee or self.assignee == "me":
            qs = qs.filter(assignee=request.user)
        elif self.assignee.isdigit():
            qs = qs.filter(assignee_id=int(self.assignee))
        return qs

    def get_context_data(self, **kwargs):
        user = self.request.user
        notices = roles.visible(user, Notification).filter(read_at__isnull=True)
        return super().get_context_data(
            state=self.state,
            assignee=self.assignee,
            assignees=list(selectors.sellers().only("id", "username"))
            if self.show_assignee
            else [],
            notifications=list(notices[:10]),
            **kwargs,
        )


class TaskCreateView(ModelAccessMixin, View):
    """A follow-up about a customer (?customer=) or one of the user's deals (?deal=)."""

    access_model = Task
    model_action = "add"
    template_name = "sales/task_form.html"

    def subject(self, request):
        if request.GET.get("deal"):
            if not roles.can(request.user, "view", Deal):
                raise PermissionDenied
            deal_id = request.GET["deal"]
            if not str(deal_id).isdigit():
                raise Http404
            deal = get_object_or_404(selectors.deal_queryset(user=request.user), pk=deal_id)
            return deal.customer, deal
        return _visible_customer(request, request.GET.get("customer")), None

    def assignees(self):
        return selectors.sellers() if roles.may(self.request.user, "reassign_work") else None

    def get(self, request):
        customer, deal = self.subject(request)
        form = TaskForm(assignees=self.assignees(), initial={"assignee": request.user.pk})
        return render(
            request, self.template_name, {"form": form, "customer": customer, "deal": deal}
        )

    def post(self, request):
        customer, deal = self.subject(request)
        form = TaskForm(request.POST, assignees=self.assignees())
        if form.is_valid():
            data = form.cleaned_data
            services.task_create(
                title=data["title"],
                due_at=data["due_at"],
                assignee=data.get("assignee") or request.user,
                created_by=request.user,
                customer=customer,
                deal=deal,
                notes=data["notes"],
            )
            messages.success(request, _("Task “%(task)s” added.") % {"task": data["title"]})
            return redirect(deal or customer)
        ctx = {"form": form, "customer": customer, "deal": deal}
        return render(request, self.template_name, ctx, status=400)


class TaskDoneView(ModelAccessMixin, View):
    """Tick a task done (done=1) or open again (done=0); htmx swaps the row."""

    access_model = Task
    model_action = "change"

    def post(self, request, pk):
        task = get_object_or_404(
            roles.visible(request.user, Task).select_related("customer", "deal", "assignee"), pk=pk
        )
        if not roles.can(request.user, "change", task):
            raise PermissionDenied
        services.task_set_done(task=task, done=request.POST.get("done", "1") == "1")
        if request.htmx:
            return render(request, "sales/partials/task_row.html", {"task": task})
        return HttpResponseRedirect(safe_next(request, reverse("sales:task_list")))


class NotificationsReadView(View):
    def post(self, request):
        services.notifications_mark_read(user=request.user)
        return HttpResponseRedirect(safe_next(request, reverse("sales:task_list")))


# ---------------------------------------------------------------- reports


def _chart(kind, labels, *datasets, **options):
    return {
        "type": kind,
        "labels": labels,
        "datasets": [{"label": str(label), "data": data} for label, data in datasets],
        "options": options,
    }


def _num(value) -> float:
    return float(value) if value is not None else 0.0


class ReportsView(ModelAccessMixin, View):
    """Every sales report on one page with charts. Managers and admins see everyone's
    figures and filter by rep; a rep sees their own (their customers' orders, their deals).
    Support agents, who have no deals, get a 403."""

    access_model = Deal
    chart_rows = 15  # bars per product chart; the table and the CSV have every row

    def get(self, request):
        own_only = not roles.may(request.user, "view_manager_dashboard")
        reps = selectors.sellers()
        if own_only:
            reps = reps.filter(pk=request.user.pk)
        form = ReportFilterForm(request.GET or None, reps=reps)
        f = form.report_filter()
        if own_only:
            f = dataclasses.replace(f, rep_id=request.user.pk)
        if not form.is_bound:  # show the defaults the figures use
            initial = {"start": f.start, "end": f.end, "pipeline": f.pipeline}
            form = ReportFilterForm(initial=initial, reps=reps)
        if own_only:
            del form.fields["rep"]
        reports = build_reports(f)
        charts = {
            "revenue_by_month": _chart(
                "line",
                [r["month"] for r in reports["revenue_by_month"].rows],
                (_("Revenue"), [_num(r["revenue"]) for r in reports["revenue_by_month"].rows]),
            ),
            "revenue_by_rep": _chart(
                "bar",
                [r["rep"] for r in reports["revenue_by_rep"].rows],
                (_("Revenue"), [_num(r["revenue"]) for r in reports["revenue_by_rep"].rows]),
            ),
            "revenue_by_product": _chart(
                "bar",
                [r["product"] for r in reports["revenue_by_product"].rows[: self.chart_rows]],
                (
                    _("Revenue"),
                    [
                        _num(r["revenue"])
                        for r in reports["revenue_by_product"].rows[: self.chart_rows]
                    ],
                ),
                indexAxis="y",
            ),
            "revenue_by_category": _chart(
                "doughnut",
                [r["category"] for r in reports["revenue_by_category"].rows],
                (_("Revenue"), [_num(r["revenue"]) for r in reports["revenue_by_category"].rows]),
            ),
            "funnel": _chart(
                "bar",
                [r["stage"] for r in reports["funnel"].rows],
                (_("Deals reached"), [r["reached"] for r in reports["funnel"].rows]),
            ),
            "win_rate": _chart(
                "bar",
                [r["rep"] for r in reports["win_rate"].rows],
                (_("Won"), [r["won"] for r in reports["win_rate"].rows]),
                (_("Lost"), [r["lost"] for r in reports["win_rate"].rows]),
            ),
            "lost_reasons": _chart(
                "pie",
                [r["reason"] for r in reports["lost_reasons"].rows],
                (_("Deals"), [r["deals"] for r in reports["lost_reasons"].rows]),
            ),
            "forecast": _chart(
                "bar",
                [r["month"] for r in reports["forecast"].rows],
                (_("Pipeline value"), [_num(r["amount"]) for r in reports["forecast"].rows]),
                (_("Weighted value"), [_num(r["weighted"]) for r in reports["forecast"].rows]),
            ),
        }
        won = sum(r["won"] for r in reports["win_rate"].rows)
        lost = sum(r["lost"] for r in reports["win_rate"].rows)
        summary = {
            "revenue": sum((r["revenue"] for r in reports["revenue_by_month"].rows), Decimal(0)),
            "orders": sum(r["orders"] for r in reports["revenue_by_month"].rows),
            "win_rate": (Decimal(won) * 100 / (won + lost)).quantize(Decimal("0.1"))
            if won + lost
            else None,
            "weighted": sum((r["weighted"] for r in reports["forecast"].rows), Decimal(0)),
        }
        return render(
            request,
            "sales/reports.html",
            {
                "form": form,
                "report_filter": f,
                "reports": reports,
                "charts": charts,
                "summary": summary,
                "product_rows": reports["revenue_by_product"].rows[:20],
                "query": request.GET.urlencode(),
                "own_only": own_only,
            },
        )


class ReportCsvView(CapabilityRequiredMixin, View):
    """One report as CSV with the page's filters; columns are the report's keys."""

    capability = "export_data"

    def get(self, request, key):
        if key not in REPORTS:
            raise Http404
        form = ReportFilterForm(request.GET or None, reps=selectors.sellers())
        f = form.report_filter()
        report = build_reports(f, [key])[key]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}_{f.start}_{f.end}.csv"'
        writer = csv.writer(response)
        writer.writerow([k for k, _label in report.columns])
        for row in report.rows:
            # Product and rep names are user input: escaped against formula injection.
            writer.writerow([cell(row[k]) for k, _label in report.columns])
        return response
