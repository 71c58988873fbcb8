from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from crm import roles
from crm.db_router import ReplicaReadMixin
from crm.exporting import csv_response
from crm.mixins import CapabilityRequiredMixin
from crm.roles import Role

from . import dashboard, my_day, selectors
from .choices import JobKind
from .labels import JOB_DESCRIPTIONS
from .services import JobAlreadyActive, start_job


class DashboardView(CapabilityRequiredMixin, ReplicaReadMixin, TemplateView):
    """The managers' dashboard: KPI tiles with their trend (database aggregates, read from the
    replica when one is configured) and the charts of the jobs' results, each with the state
    of the job behind it."""

    capability = "view_manager_dashboard"
    template_name = "analytics/index.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        period = self.request.GET.get("period")
        if period not in dashboard.PERIODS:
            period = dashboard.DEFAULT_PERIOD
        runs = dashboard.panel_runs()
        version = dashboard.results_version(runs)
        ctx.update(
            period=period,
            periods=[(k, str(v)) for k, v in dashboard.PERIOD_LABELS.items()],
            kpis=dashboard.kpis(days=dashboard.PERIODS[period]),
            panels=[
                _panel(self.request, dashboard.build_chart(key, None, version), runs)
                for key in dashboard.CHARTS
            ],
        )
        return ctx


def _panel(request, chart: dashboard.Chart, runs: dict) -> dict:
    slot = runs.get(chart.job) if chart.job else None
    latest = slot["latest"] if slot else None
    ok = slot["ok"] if slot else None
    return {
        "chart": chart,
        "spec_id": f"chart-{chart.key}",
        "profile_id": f"chart-{chart.key}-profile",
        "latest": latest,
        "ok": ok,
        "rows_read": dashboard.rows_read(ok),
        "job_label": JobKind(chart.job).label if chart.job else "",
        "can_run": bool(chart.job) and roles.may(request.user, "run_jobs"),
        "can_export": roles.may(request.user, "export_data"),
    }


class DashboardChartView(CapabilityRequiredMixin, ReplicaReadMixin, View):
    """One dashboard panel with its filter applied (htmx swaps it in: the filter, and the
    refresh when its job finishes)."""

    capability = "view_manager_dashboard"

    def get(self, request, key):
        if key not in dashboard.CHARTS:
            raise Http404
        runs = dashboard.panel_runs()
        chart = dashboard.build_chart(key, request.GET.get("f"), dashboard.results_version(runs))
        panel = _panel(request, chart, runs)
        return render(request, "analytics/partials/dashboard_panel.html", {"panel": panel})


class DashboardCsvView(CapabilityRequiredMixin, ReplicaReadMixin, View):
    """A chart's numbers as CSV (the at-risk list in full with key "at_risk"), escaped
    against formula injection by crm.exporting."""

    capability = "export_data"

    def get(self, request, key):
        value = request.GET.get("f")
        if key == "at_risk":
            if value not in dashboard.RECENCY_CHOICES:
                value = "all"
            rows = dashboard.at_risk_customers(recency=value, limit=0)
            columns = [(k, str(label)) for k, label in dashboard.AT_RISK_COLUMNS]
        elif key in dashboard.CHARTS:
            chart = dashboard.build_chart(key, value)
            rows, columns = chart.rows, chart.columns
        else:
            raise Http404
        return csv_response(
            f"{key}",
            [k for k, _label in columns],
            ([row.get(k) for k, _label in columns] for row in rows),
        )


class MyDayView(TemplateView):
    """A rep's or an agent's own day: sales sections for roles that sell, service sections
    for roles that work tickets; only the user's own rows."""

    template_name = "analytics/my_day.html"

    def dispatch(self, request, *args, **kwargs):
        if roles.role_of(request.user) is None:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        role = roles.role_of(user)
        sells = role in (Role.SALES_REP, Role.MANAGER, Role.ADMIN)
        serves = role in (Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN)
        ctx["rep"] = my_day.rep_day(user=user) if sells else None
        ctx["agent"] = my_day.agent_day(user=user) if serves else None
        if ctx["rep"]:
            rows = ctx["rep"]["pipeline"]
            ctx["pipeline_chart"] = {
                "type": "bar",
                "labels": [r["stage"] for r in rows],
                "datasets": [
                    {
                        "label": str(_("Pipeline value")),
                        "data": [float(r["amount"]) for r in rows],
                        "color": 0,
                    },
                    {
                        "label": str(_("Weighted value")),
                        "data": [float(r["weighted"]) for r in rows],
                        "color": 1,
                    },
                ],
                "money": True,
            }
        if ctx["agent"]:
            months = ctx["agent"]["satisfaction_months"]
            ctx["satisfaction_chart"] = {
                "type": "line",
                "labels": [m["month"] for m in months],
                "datasets": [
                    {
                        "label": str(_("Satisfied (4-5), %")),
                        "data": [m["csat_pct"] for m in months],
                        "color": 0,
                    }
                ],
            }
        return ctx


class JobRunListView(CapabilityRequiredMixin, ListView):
    """Every job with its latest run and a "run now" button, then the run history."""

    capability = "run_jobs"
    template_name = "analytics/jobrun_list.html"
    context_object_name = "runs"
    paginate_by = 20

    def get_queryset(self):
        return selectors.job_runs()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["jobs"] = [
            {"kind": kind, "description": JOB_DESCRIPTIONS[kind.value], "run": run}
            for kind, run in selectors.latest_runs()
        ]
        return ctx


class JobRunStartView(CapabilityRequiredMixin, View):
    """POST kind=...: queue a run, or say politely that one is already under way."""

    capability = "run_jobs"
    http_method_names = ["post"]

    def post(self, request):
        kind = request.POST.get("kind", "")
        if kind not in JobKind.values:
            return HttpResponseBadRequest(_("Unknown job."))
        label = JobKind(kind).label
        refused = None
        try:
            run = start_job(kind=kind, user=request.user)
        except JobAlreadyActive as exc:
            run = exc.run
            refused = _(
                "%(job)s is already %(status)s (started %(when)s); wait for it to finish."
            ) % {
                "job": label,
                "status": exc.run.get_status_display().lower(),
                "when": timezone.localtime(exc.run.created_at).strftime("%H:%M"),
            }
        if request.htmx:
            # The dashboard's panel: the run's live progress bar in place of the button.
            response = render(
                request,
                "analytics/partials/job_started.html",
                {"run": run, "refused": refused},
            )
            if not run.is_active:  # finished already (an eager task): redraw the panel now
                response["HX-Trigger"] = f"job-finished-{run.kind}"
            return response
        if refused:
            messages.warning(request, refused)
        else:
            messages.success(
                request, _("%(job)s queued as run %(id)s.") % {"job": label, "id": run.pk}
            )
        return redirect("analytics:jobrun_list")


class JobRunProgressView(CapabilityRequiredMixin, DetailView):
    """The htmx-polled status fragment of one run (polls itself while the run is active)."""

    capability = "run_jobs"
    template_name = "analytics/partials/jobrun_progress.html"
    context_object_name = "run"

    def get_object(self, queryset=None):
        return get_object_or_404(selectors.job_runs(), pk=self.kwargs["pk"])

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        run = context["run"]
        if self.request.htmx and not run.is_active:
            # The panels of the dashboard listen for this to redraw with the new results.
            response["HX-Trigger"] = f"job-finished-{run.kind}"
        return response
