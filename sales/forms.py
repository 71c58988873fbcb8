"""Sales forms: validation only; the views hand cleaned data to the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import LostReason, OrderStatus
from .models import Deal, Pipeline, PipelineStage, Product
from .reports import ReportFilter
from .services import LineInput

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def product_choices(extra_ids=()) -> list[tuple[str, str]]:
    """Product options for line forms, read once per page rather than once per line."""
    qs = Product.objects.filter(active=True) | Product.objects.filter(pk__in=list(extra_ids))
    rows = qs.order_by("name", "id").values_list("id", "name", "sku", "unit_price")
    return [("", "---------")] + [(str(pk), f"{name} ({sku})") for pk, name, sku, _p in rows]


class LineForm(forms.Form):
    """One product line; the unit price defaults to the product's list price."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.all())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"placeholder": _("List price"), "step": "0.01"}),
    )

    def __init__(self, *args, product_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if product_choices is not None:
            self.fields["product"].choices = product_choices

    def to_line(self) -> LineInput:
        data = self.cleaned_data
        price = data.get("unit_price")
        if price is None:
            price = data["product"].unit_price
        return LineInput(product=data["product"], quantity=data["quantity"], unit_price=price)


class BaseLineFormSet(forms.BaseFormSet):
    min_lines = 0

    def lines(self) -> list[LineInput]:
        return [
            f.to_line()
            for f in self.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if len(self.lines()) < self.min_lines:
            raise forms.ValidationError(_("Add at least one product line."))


class RequiredLineFormSet(BaseLineFormSet):
    min_lines = 1


# At most MAX_LINES lines: a forged TOTAL_FORMS would otherwise build (and render, one
# product query each) Django's default of 2,000 forms.
MAX_LINES = 100


def _line_formset(base, extra: int):
    return formset_factory(
        LineForm,
        formset=base,
        extra=extra,
        can_delete=True,
        max_num=MAX_LINES,
        absolute_max=MAX_LINES,
        validate_max=True,
    )


DealLineFormSet = _line_formset(BaseLineFormSet, extra=2)
OrderLineFormSet = _line_formset(RequiredLineFormSet, extra=3)


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.pipeline.name} · {obj.name}"


class DealForm(forms.Form):
    """A deal's details. The stage decides the pipeline (stages are grouped by pipeline),
    so a deal can never sit in another pipeline's stage. Owners are chosen by managers."""

    title = forms.CharField(label=_("Title"), max_length=200)
    stage = StageChoiceField(
        label=_("Stage"),
        queryset=PipelineStage.objects.filter(pipeline__active=True).select_related("pipeline"),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Computed from the products when the deal has any."),
    )
    expected_close = forms.DateField(label=_("Expected close"), required=False, widget=DateInput)
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "---------"), *LostReason.choices], required=False
    )

    def __init__(self, *args, owners=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
            self.fields["owner"].required = True
        if editing:
            del self.fields["stage"]
            del self.fields["lost_reason"]

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.is_lost and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Choose why the deal was lost."))
        return data


class DealMoveForm(forms.Form):
    """Move a deal without drag and drop (phones, keyboards): a stage of its pipeline,
    and a reason when the stage is a lost one."""

    stage = forms.ModelChoiceField(label=_("Move to stage"), queryset=PipelineStage.objects.none())
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "---------"), *LostReason.choices], required=False
    )
    lost_note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, deal: Deal | None = None, stages=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Every stage is accepted here so the service can refuse another pipeline's stage
        # with its own message; the select only offers the deal's pipeline.
        self.fields["stage"].queryset = PipelineStage.objects.select_related("pipeline")
        if stages is not None:
            self.fields["stage"].choices = [(s.pk, s.name) for s in stages]
        if deal is not None:
            self.fields["stage"].initial = deal.stage_id


class OrderForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=OrderStatus.choices)
    ordered_at = forms.DateTimeField(
        label=_("Ordered"),
        widget=DateTimeLocalInput,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class OrderStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=OrderStatus.choices)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(
        label=_("Due"),
        widget=DateTimeLocalInput,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=None, required=False)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assignees is None:
            del self.fields["assignee"]
        else:
            self.fields["assignee"].queryset = assignees
            self.fields["assignee"].required = True


class ReportFilterForm(forms.Form):
    """Period, rep and pipeline for the reports; defaults to the last twelve months."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput)
    rep = forms.ModelChoiceField(label=_("Rep"), queryset=None, required=False)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), required=False
    )

    def __init__(self, *args, reps=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = reps

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end of the period is before its start."))
        return data

    def report_filter(self) -> ReportFilter:
        """The filter from valid input, defaults for what is empty or invalid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or (end.replace(day=1) - timedelta(days=334)).replace(day=1)
        pipeline = data.get("pipeline") or Pipeline.objects.filter(active=True).first()
        rep = data.get("rep")
        return ReportFilter(start=start, end=end, rep_id=rep.pk if rep else None, pipeline=pipeline)
