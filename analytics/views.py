from django.contrib import messages
from django.db.models import Count, Sum
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from crm.db_router import ReplicaReadMixin
from crm.mixins import CapabilityRequiredMixin
from customers.models import Customer
from sales.models import Order
from service.models import Ticket

from . import selectors
from .choices import JobKind
from .labels import JOB_DESCRIPTIONS
from .services import JobAlreadyActive, start_job


class DashboardView(CapabilityRequiredMixin, ReplicaReadMixin, TemplateView):
    """The managers' dashboard: headline figures from database aggregates (read from the
    replica when one is configured)."""

    capability = "view_manager_dashboard"
    template_name = "analytics/index.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        since = timezone.now() - timezone.timedelta(days=30)
        recent = (
            Order.objects.counted()
            .filter(ordered_at__gte=since)
            .aggregate(revenue=Sum("total"), orders=Count("id"))
        )
        ctx.update(
            customers=Customer.objects.count(),
            revenue_30d=recent["revenue"],
            orders_30d=recent["orders"],
            open_tickets=Ticket.objects.open().count(),
        )
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
        try:
            run = start_job(kind=kind, user=request.user)
        except JobAlreadyActive as exc:
            messages.warning(
                request,
                _("%(job)s is already %(status)s (started %(when)s); wait for it to finish.")
                % {
                    "job": label,
                    "status": exc.run.get_status_display().lower(),
                    "when": timezone.localtime(exc.run.created_at).strftime("%H:%M"),
                },
            )
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
