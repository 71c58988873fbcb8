"""Forms of the service desk: validation only; the services do the writing."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import roles
from crm.roles import Role
from customers.models import Customer
from sales.models import Order

from .choices import OPEN_STATUSES, TicketCategory, TicketChannel, TicketPriority, TicketStatus
from .models import Article, CannedReply, Ticket


def working_users():
    """Active users who may be given tickets: agents, managers and admins."""
    names = [Role.SUPPORT_AGENT.value, Role.MANAGER.value, Role.ADMIN.value]
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=names) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


class CustomerLookupField(forms.CharField):
    """A customer given by id or by exact email, among the customers the form allows."""

    def __init__(self, *args, queryset=None, **kwargs):
        self.queryset = queryset
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        value = (value or "").strip()
        if not value:
            raise forms.ValidationError(_("Give the customer's number or email."))
        qs = self.queryset
        match = qs.filter(pk=int(value)) if value.isdigit() else qs.filter(email__iexact=value)
        found = list(match[:2])
        if len(found) != 1:
            raise forms.ValidationError(
                _("No customer you may open tickets for has this number or email.")
            )
        return found[0]


class TicketCreateForm(forms.Form):
    customer = CustomerLookupField(
        label=_("Customer"),
        max_length=254,
        help_text=_("The customer's number or email address."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    problem = forms.CharField(label=_("Problem"), widget=forms.Textarea(attrs={"rows": 5}))
    category = forms.ChoiceField(
        label=_("Category"), choices=TicketCategory.choices, initial=TicketCategory.QUESTION
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=TicketChannel.choices, initial=TicketChannel.EMAIL
    )
    order = forms.CharField(
        label=_("Related order"),
        required=False,
        max_length=64,
        help_text=_("The order's number (e.g. ORD-00012345), if the ticket is about one."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        customers = roles.visible(user, Customer)
        if roles.role_of(user) is Role.SALES_REP:
            customers = customers.filter(owner=user)  # they can see only those tickets
        self.fields["customer"].queryset = customers

    def clean(self):
        data = super().clean()
        customer, ref = data.get("customer"), (data.get("order") or "").strip()
        if customer is not None and ref:
            orders = Order.objects.filter(customer=customer)
            match = Q(external_id__iexact=ref)
            if ref.lstrip("#").isdigit():
                match |= Q(pk=int(ref.lstrip("#")))
            order = orders.filter(match).first()
            if order is None:
                self.add_error("order", _("This customer has no order with this number."))
            data["order"] = order
        else:
            data["order"] = None
        return data


class TicketEditForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ["subject", "problem", "category", "priority", "channel"]
        widgets = {"problem": forms.Textarea(attrs={"rows": 4})}


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 5, "data-reply-body": ""}),
        max_length=20000,
    )
    public = forms.TypedChoiceField(
        label=_("Send as"),
        choices=[("1", _("Public reply (emailed to the customer)")), ("0", _("Internal note"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    then_status = forms.ChoiceField(
        label=_("Then set status"),
        required=False,
        choices=[
            ("", _("Leave as it is")),
            (TicketStatus.OPEN, _("Open")),
            (TicketStatus.PENDING, _("Pending on customer")),
        ],
    )


class ResolveForm(forms.Form):
    solution = forms.CharField(
        label=_("Solution"),
        widget=forms.Textarea(attrs={"rows": 4, "data-solution-body": ""}),
        max_length=20000,
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = working_users()


def status_choices(current: str) -> list[str]:
    """The statuses a ticket in `current` can be set to by hand, `current` first so the
    select shows where the ticket is now (resolving needs a solution: ResolveForm)."""
    if current in OPEN_STATUSES:
        targets = [TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.CLOSED]
    else:
        targets = [TicketStatus.CLOSED, TicketStatus.REOPENED]
    return [current, *(s for s in targets if s != current)]


class StatusForm(forms.Form):
    """Set a ticket's status; the select starts at the ticket's current status."""

    status = forms.ChoiceField(label=_("Status"))

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        field = self.fields["status"]
        field.choices = [(s, TicketStatus(s).label) for s in status_choices(ticket.status)]
        field.initial = ticket.status

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == self.ticket.status:
            raise forms.ValidationError(_("The ticket already has this status."))
        return status


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Merge into ticket number"),
        min_value=1,
        help_text=_("This ticket is closed and its conversation moves to that ticket."),
    )


class BulkForm(forms.Form):
    ACTION_CHOICES = [("close", _("Close"))]

    action = forms.ChoiceField(choices=ACTION_CHOICES)
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        data = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(v, v) for v in data if str(v).isdigit()]
        self.fields["tickets"].error_messages["required"] = _("Select at least one ticket.")


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your request?"),
        choices=[(str(i), str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        help_text=_("1 = very dissatisfied, 5 = very satisfied"),
    )
    ces = forms.TypedChoiceField(
        label=_("How easy was it to get your issue resolved?"),
        choices=[(str(i), str(i)) for i in range(1, 8)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        help_text=_("1 = very difficult, 7 = very easy"),
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend or colleague?"),
        choices=[(str(i), str(i)) for i in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
    )
    comment = forms.CharField(
        label=_("Anything else you would like to tell us?"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "category", "status", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "category", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}


class SatisfactionPeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end is before the start."))
        return data
