"""Thin views: they check the role rules, call selectors and services, and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, ListView

from crm import roles
from crm.locking import VERSION_FIELD, check_version, version_of
from crm.mixins import ScopedQuerysetMixin
from crm.registry import customer_panels
from crm.security import safe_next

from . import duplicates, privacy, selectors, services
from .choices import CustomerKind, LifecycleStage
from .filters import SORTABLE, CustomerFilter
from .forms import (
    BulkActionForm,
    ContactDetailsForm,
    CustomerForm,
    ErasureConfirmForm,
    InteractionForm,
    MergeForm,
    NeedForm,
    NeedStatusForm,
    SavedViewForm,
    organisation_label,
)
from .models import Customer, Interaction, Need, SavedView
from .pagination import FastPaginator
from .timeline import timeline_page


def _visible_customer(request, pk) -> Customer:
    return get_object_or_404(roles.visible(request.user, Customer), pk=pk)


class CustomerListView(ListView):
    """Search, filters, sorting, saved views and bulk actions over every visible customer."""

    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    paginate_by = 25
    paginator_class = FastPaginator

    def get_queryset(self):
        self.filterset = CustomerFilter(
            self.request.GET, queryset=selectors.customer_list(user=self.request.user)
        )
        qs = self.filterset.qs
        if not qs.query.order_by:
            qs = qs.order_by("name", "id")
        return qs

    def get_context_data(self, **kwargs):
        user = self.request.user
        current = self.request.GET.get("o", "")
        columns = []
        for key, label in [
            ("name", _("Name")),
            ("email", _("Email")),
            ("phone", _("Phone")),
            ("city", _("City")),
            ("country", _("Country")),
            ("stage", _("Stage")),
            ("owner", _("Owner")),
            ("created", _("Created")),
        ]:
            direction = "asc" if current == key else "desc" if current == f"-{key}" else ""
            columns.append(
                {
                    "key": key,
                    "label": label,
                    "direction": direction,
                    "next": f"-{key}" if current == key else key,
                }
            )
        can_bulk = roles.can(user, "change", Customer)  # reps (their own rows), managers
        return super().get_context_data(
            filter=self.filterset,
            columns=columns,
            sortable=SORTABLE,
            saved_views=list(selectors.saved_views_for(user)),
            can_add=roles.can(user, "add", Customer),
            can_bulk=can_bulk,
            can_dedupe=roles.can(user, "delete", Customer),
            bulk_form=BulkActionForm(user=user) if can_bulk else None,
            filters_active=any(
                v for k, v in self.request.GET.items() if k not in ("page", "o", "q")
            ),
            **kwargs,
        )


class CustomerBulkView(View):
    """POST: one bulk action on the ticked customers; forbidden rows are skipped."""

    def post(self, request):
        form = BulkActionForm(request.POST, user=request.user)
        fallback = reverse("customers:customer_list")
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(safe_next(request, fallback))
        changed, skipped = services.customers_bulk_update(
            user=request.user,
            ids=form.cleaned_data["ids"],
            action=form.cleaned_data["action"],
            value=form.cleaned_data["value"],
        )
        if changed:
            messages.success(
                request,
                ngettext("%(n)s customer changed.", "%(n)s customers changed.", changed)
                % {"n": changed},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(n)s customer skipped: you may not change it.",
                    "%(n)s customers skipped: you may not change them.",
                    skipped,
                )
                % {"n": skipped},
            )
        return redirect(safe_next(request, fallback))


class SavedViewCreateView(View):
    def post(self, request):
        form = SavedViewForm(request.POST)
        if form.is_valid():
            view = services.saved_view_save(
                user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(view.get_absolute_url())
        messages.error(request, _("Give the view a name."))
        return redirect(reverse("customers:customer_list"))


class SavedViewDeleteView(View):
    def post(self, request, pk):
        view = get_object_or_404(roles.visible(request.user, SavedView), pk=pk)
        view.delete()
        messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
        return redirect(reverse("customers:customer_list"))


class CustomerDetailView(ScopedQuerysetMixin, DetailView):
    """The whole relationship on one page: contact card, needs, the quick-log form, the
    merged timeline, and the panels that the other apps register (orders, deals, tickets,
    scores). A constant number of queries, however long the history."""

    model = Customer
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        return super().get_queryset().select_related("owner", "organisation")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        request, customer, user = self.request, self.object, self.request.user
        before = parse_datetime(request.GET.get("before", "") or "")
        events, next_cursor = timeline_page(request, customer, before=before)
        role = roles.role_of(user)
        panels = []
        for panel in customer_panels():
            if role in panel.roles:
                panel_ctx = panel.get_context(request, customer)
                if panel_ctx is not None:
                    panels.append({"template": panel.template, "context": panel_ctx})
        ctx.update(
            timeline=events,
            timeline_next=next_cursor.isoformat() if next_cursor else "",
            panels=panels,
            tags=customer.tags.all(),
            contacts=(
                list(customer.contacts.select_related("owner")[:25])
                if customer.is_organisation
                else []
            ),
            lifecycle=selectors.lifecycle_history(customer),
            merges=list(customer.merges.select_related("merged_by")[:10]),
            can_edit=roles.can(user, "change", customer)
            or roles.can(user, "change_contact", customer),
            can_delete=roles.can(user, "delete", customer),
            can_export_personal=roles.may(user, "export_personal_data"),
            can_erase_personal=roles.may(user, "erase_personal_data"),
            can_change_stage=roles.can(user, "change", customer),
            stages=LifecycleStage.choices,
            can_add_contact=roles.can(user, "add", Customer),
            before=before,
            can_log=roles.can(user, "add", Interaction),
            interaction_form=InteractionForm(user=user, customer=customer)
            if roles.can(user, "add", Interaction)
            else None,
            **_needs_context(request, customer),
        )
        return ctx


def _needs_context(request, customer, form=None) -> dict:
    needs = list(customer.needs.select_related("customer"))
    user = request.user
    for need in needs:
        need.can_change = roles.can(user, "change", need)
        need.status_form = NeedStatusForm(instance=need, prefix=f"need{need.pk}")
    return {
        "needs": needs,
        "need_form": (form or NeedForm()) if roles.can(user, "add", Need) else None,
    }


class CustomerStageView(View):
    """POST: move the customer to another lifecycle stage (the select on the customer page)."""

    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        if not roles.can(request.user, "change", customer):
            raise PermissionDenied
        stage = request.POST.get("lifecycle_stage", "")
        if stage not in LifecycleStage.values:
            messages.error(request, _("Choose a lifecycle stage."))
        elif services.customer_change_stage(user=request.user, customer=customer, stage=stage):
            messages.success(
                request,
                _("Stage changed to %(stage)s.")
                % {"stage": customer.get_lifecycle_stage_display()},
            )
        return redirect(customer.get_absolute_url())


class CustomerTimelineView(View):
    """htmx: the next page of the timeline (older events), appended in place."""

    def get(self, request, pk):
        customer = _visible_customer(request, pk)
        before = parse_datetime(request.GET.get("before", "") or "")
        events, next_cursor = timeline_page(request, customer, before=before)
        return render(
            request,
            "customers/partials/timeline_items.html",
            {
                "customer": customer,
                "timeline": events,
                "timeline_next": next_cursor.isoformat() if next_cursor else "",
                "before": before,
            },
        )


class InteractionCreateView(View):
    """Quick-log: with htmx the form is swapped in place and the timeline refreshed out of
    band; without htmx, a normal post and redirect."""

    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        if not roles.can(request.user, "add", Interaction):
            raise PermissionDenied
        form = InteractionForm(request.POST, user=request.user, customer=customer)
        saved = False
        if form.is_valid():
            services.interaction_log(
                user=request.user,
                customer=customer,
                data={f: form.cleaned_data[f] for f in form.Meta.fields},
                related=form.related,
            )
            saved = True
            if not request.htmx:
                messages.success(request, _("Interaction logged."))
                return redirect(customer.get_absolute_url())
            form = InteractionForm(user=request.user, customer=customer)
        if not request.htmx:
            return render(
                request,
                "customers/interaction_form_page.html",
                {"customer": customer, "form": form},
            )
        ctx = {"customer": customer, "interaction_form": form, "saved": saved}
        if saved:
            events, next_cursor = timeline_page(request, customer)
            ctx.update(
                timeline=events, timeline_next=next_cursor.isoformat() if next_cursor else ""
            )
        return render(request, "customers/partials/interaction_logged.html", ctx)


class NeedCreateView(View):
    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        if not roles.can(request.user, "add", Need):
            raise PermissionDenied
        form = NeedForm(request.POST)
        if form.is_valid():
            form.instance.customer = customer
            services.need_save(need=form.instance)
            form = None
        return _needs_response(request, customer, form)


class NeedUpdateView(View):
    def post(self, request, pk):
        need = get_object_or_404(
            roles.visible(request.user, Need).select_related("customer"), pk=pk
        )
        if not roles.can(request.user, "change", need):
            raise PermissionDenied
        form = NeedStatusForm(request.POST, instance=need, prefix=f"need{need.pk}")
        if form.is_valid():
            services.need_save(need=form.instance)
        return _needs_response(request, need.customer)


def _needs_response(request, customer, form=None):
    if not request.htmx:
        return redirect(customer.get_absolute_url() + "#needs")
    ctx = {"customer": customer, **_needs_context(request, customer, form)}
    return render(request, "customers/partials/needs.html", ctx)


class CustomerFormMixin:
    """Chooses the form by what the user may do: the full form, or the reduced
    contact-details form of support agents."""

    template_name = "customers/customer_form.html"

    def render_form(self, request, form, customer=None, conflict=None):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "customer": customer,
                "kind": form.instance.kind,
                "version": version_of(customer) if customer else "",
                "conflict": conflict,
            },
            status=409 if conflict else 200,
        )


class CustomerCreateView(CustomerFormMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, "add", Customer):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _kind(self, request):
        kind = request.GET.get("kind") or request.POST.get("kind") or CustomerKind.PERSON
        return kind if kind in CustomerKind.values else CustomerKind.PERSON

    def get(self, request):
        initial = {}
        org_pk = request.GET.get("organisation", "")
        if org_pk.isdigit():
            org = Customer.objects.organisations().filter(pk=int(org_pk)).first()
            if org:
                initial["organisation_ref"] = organisation_label(org)
        form = CustomerForm(user=request.user, kind=self._kind(request), initial=initial)
        return self.render_form(request, form)

    def post(self, request):
        form = CustomerForm(request.POST, user=request.user, kind=self._kind(request))
        if not form.is_valid():
            return self.render_form(request, form)
        customer = services.customer_save(
            user=request.user, customer=form.instance, tag_names=form.cleaned_data["tag_names"]
        )
        messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
        return redirect(customer.get_absolute_url())


class CustomerUpdateView(CustomerFormMixin, View):
    def get_form(self, request, customer, data=None):
        user = request.user
        if roles.can(user, "change", customer):
            return CustomerForm(data, instance=customer, user=user, kind=customer.kind)
        if roles.can(user, "change_contact", customer):
            return ContactDetailsForm(data, instance=customer)
        raise PermissionDenied

    def get(self, request, pk):
        customer = _visible_customer(request, pk)
        return self.render_form(request, self.get_form(request, customer), customer)

    def post(self, request, pk):
        customer = _visible_customer(request, pk)
        form = self.get_form(request, customer, request.POST)
        if not form.is_valid():
            return self.render_form(request, form, customer)
        tag_names = form.cleaned_data.get("tag_names") if "tag_names" in form.fields else None
        with transaction.atomic():
            conflict = check_version(
                customer, request.POST.get(VERSION_FIELD), submitted=form.cleaned_data
            )
            if conflict is None:
                services.customer_save(
                    user=request.user, customer=form.instance, tag_names=tag_names
                )
        if conflict is not None:
            return self.render_form(request, form, customer, conflict=conflict)
        messages.success(request, _("Customer “%(name)s” saved.") % {"name": customer.name})
        return redirect(customer.get_absolute_url())


class CustomerDeleteView(View):
    template_name = "customers/customer_confirm_delete.html"

    def get_customer(self, request, pk):
        customer = _visible_customer(request, pk)
        if not roles.can(request.user, "delete", customer):
            raise PermissionDenied
        return customer

    def get(self, request, pk):
        customer = self.get_customer(request, pk)
        return render(
            request,
            self.template_name,
            {"customer": customer, "counts": selectors.related_counts(customer)},
        )

    def post(self, request, pk):
        customer = self.get_customer(request, pk)
        try:
            customer.delete()
        except ProtectedError:
            messages.error(
                request,
                _(
                    "“%(name)s” has orders or tickets and cannot be deleted. Merge it into "
                    "another customer instead."
                )
                % {"name": customer.name},
            )
            return redirect(customer.get_absolute_url())
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
        return redirect(reverse("customers:customer_list"))


class OrganisationOptionsView(View):
    """htmx: <option>s of organisations matching what was typed, for the datalist."""

    def get(self, request):
        term = request.GET.get("organisation_ref", "").strip()
        orgs = []
        if len(term) >= 2:
            orgs = list(
                roles.visible(request.user, Customer)
                .organisations()
                .filter(name__icontains=term)
                .order_by("name")[:15]
            )
        return render(request, "customers/partials/organisation_options.html", {"orgs": orgs})


class DuplicatesView(View):
    """Likely duplicates, for those who may merge (managers and admins)."""

    def get(self, request):
        if not roles.can(request.user, "delete", Customer):
            raise PermissionDenied
        reason = request.GET.get("reason", "")
        reasons = (
            (reason,) if reason in selectors.DUPLICATE_REASONS else selectors.DUPLICATE_REASONS
        )
        groups = selectors.duplicate_groups(user=request.user, reasons=reasons)
        return render(
            request,
            "customers/customer_duplicates.html",
            {
                "groups": groups,
                "reason": reason if len(reasons) == 1 else "",
                "similar_run": duplicates.last_run() if "similar_name" in reasons else None,
            },
        )


class CustomerMergeView(View):
    """GET ?a=&b=: the two side by side with what each holds; POST keep/drop: merge."""

    template_name = "customers/customer_merge.html"

    def dispatch(self, request, *args, **kwargs):
        if not roles.can(request.user, "delete", Customer):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        a = request.GET.get("a", "")
        b = request.GET.get("b", "")
        if not (a.isdigit() and b.isdigit()) or a == b:
            raise Http404
        first, second = _visible_customer(request, int(a)), _visible_customer(request, int(b))
        form = MergeForm(user=request.user, initial={"keep": first.pk, "drop": second.pk})
        return self._render(request, form, first, second)

    def _render(self, request, form, first, second):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "pair": [
                    {"customer": c, "counts": selectors.related_counts(c)} for c in (first, second)
                ],
            },
        )

    def post(self, request):
        data = request.POST.copy()
        if not data.get("drop"):
            # The page posts the pair and a radio for the one to keep; the other is dropped.
            data["drop"] = next((p for p in data.getlist("pair") if p != data.get("keep")), "")
        form = MergeForm(data, user=request.user)
        if not form.is_valid():
            ids = [v for v in (data.get("keep"), data.get("drop")) if v and v.isdigit()]
            if len(set(ids)) != 2:
                messages.error(request, _("Choose two different customers."))
                return redirect(reverse("customers:customer_duplicates"))
            first, second = (_visible_customer(request, int(i)) for i in ids)
            return self._render(request, form, first, second)
        keep, drop = form.cleaned_data["keep"], form.cleaned_data["drop"]
        merge = services.customer_merge(user=request.user, keep=keep, drop=drop)
        moved = sum(merge.moved.values())
        messages.success(
            request,
            _("“%(dropped)s” was merged into “%(kept)s”; %(moved)s related records moved.")
            % {"dropped": merge.merged_name, "kept": keep.name, "moved": moved},
        )
        return redirect(keep.get_absolute_url())


# --- personal data (GDPR / PIPL requests) ------------------------------------------------------


class CustomerPersonalDataExportView(View):
    """Managers and admins download everything held about one customer (zip: JSON + CSV)."""

    def get(self, request, pk):
        if not roles.may(request.user, "export_personal_data"):
            raise PermissionDenied
        customer = _visible_customer(request, pk)
        body = privacy.personal_data_zip(customer=customer)
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="customer-{customer.pk}-personal-data.zip"'
        )
        response["Cache-Control"] = "no-store"
        return response


class CustomerEraseView(View):
    """Admins erase a customer's personal data after typing the customer's name."""

    template_name = "customers/customer_erase.html"

    def get_customer(self, request, pk):
        if not roles.may(request.user, "erase_personal_data"):
            raise PermissionDenied
        return _visible_customer(request, pk)

    def _render(self, request, customer, form, status=200):
        return render(
            request, self.template_name, {"customer": customer, "form": form}, status=status
        )

    def get(self, request, pk):
        customer = self.get_customer(request, pk)
        return self._render(request, customer, ErasureConfirmForm(customer=customer))

    def post(self, request, pk):
        customer = self.get_customer(request, pk)
        form = ErasureConfirmForm(request.POST, customer=customer)
        if not form.is_valid():
            return self._render(request, customer, form, status=400)
        try:
            privacy.personal_data_erase(user=request.user, customer=customer)
        except privacy.ErasureRefused as exc:
            form.add_error(None, exc.message)
            return self._render(request, customer, form, status=400)
        messages.success(
            request,
            _("The personal data of customer #%(id)s was erased; orders and amounts were kept.")
            % {"id": customer.pk},
        )
        return redirect(customer.get_absolute_url())
