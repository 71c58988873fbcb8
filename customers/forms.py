"""Validation only: the forms clean and check; services write."""

from __future__ import annotations

import re
from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import roles

from . import selectors
from .choices import BulkAction, Channel, CustomerKind, LifecycleStage
from .cleaning import normalize_email, normalize_phone
from .models import Customer, Interaction, Need, Tag

COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
ORG_REF_RE = re.compile(r"\(#(\d+)\)\s*$")
# Channels where a duration means something; an email has none.
TIMED_CHANNELS = {Channel.PHONE, Channel.MEETING, Channel.CHAT}

CONTACT_FIELDS = ["email", "phone", "street", "city", "region", "postal_code", "country"]
PERSON_FIELDS = [
    "name",
    *CONTACT_FIELDS,
    "birth_date",
    "gender",
    "annual_income",
    "education",
    "occupation",
    "owner",
    "lifecycle_stage",
    "source",
    "marketing_consent",
    "consent_method",
    "consent_at",
]
ORGANISATION_FIELDS = [
    "name",
    "industry",
    "size",
    "website",
    *CONTACT_FIELDS,
    "owner",
    "lifecycle_stage",
    "source",
    "marketing_consent",
    "consent_method",
    "consent_at",
]
SENSITIVE_FIELDS = ("birth_date", "annual_income")


def style_widgets(form: forms.Form) -> None:
    """Bootstrap classes on hand-placed widgets (the list page's filters and bulk form)."""
    for field in form.fields.values():
        widget = field.widget
        subwidgets = getattr(widget, "widgets", [widget])
        for w in subwidgets:
            css = "form-select" if isinstance(w, forms.Select) else "form-control"
            w.attrs.setdefault("class", css)


def organisation_label(org: Customer) -> str:
    """How an organisation is written in the organisation field: "Acme Ltd (#12)"."""
    return f"{org.name} (#{org.pk})"


class ContactCleaningMixin:
    """Phone to E.164 and email to lower case, with the message at the field."""

    def clean_email(self):
        value, error = normalize_email(self.cleaned_data.get("email", ""))
        if error:
            raise forms.ValidationError(error)
        return value

    def clean(self):
        # The phone is read in the customer's country when it has no "+" prefix, so the
        # country is cleaned first; without one, settings.PHONE_DEFAULT_REGION applies.
        cleaned = super().clean()
        if "phone" in cleaned:
            value, error = normalize_phone(cleaned["phone"], cleaned.get("country") or None)
            if error:
                self.add_error("phone", error)
            else:
                cleaned["phone"] = value
        return cleaned

    def clean_country(self):
        value = (self.cleaned_data.get("country") or "").strip()
        if value and not COUNTRY_RE.match(value):
            raise forms.ValidationError(_("Enter a two-letter country code, such as US or CN."))
        return value.upper()


def _layout(fields: list[str]) -> Layout:
    """Group the fields that exist into titled fieldsets, two columns where they pair."""
    groups = [
        (_("Who"), [["name"], ["industry", "size"], ["website"], ["organisation_ref"]]),
        (
            _("Contact"),
            [["email", "phone"], ["street"], ["postal_code", "city"], ["region", "country"]],
        ),
        (_("Profile"), [["birth_date", "gender"], ["annual_income", "education"], ["occupation"]]),
        (
            _("Relationship"),
            [["owner", "lifecycle_stage"], ["source", "tag_names"]],
        ),
        (_("Marketing consent"), [["marketing_consent"], ["consent_method", "consent_at"]]),
        ("", [["allow_duplicate"]]),
    ]
    parts = []
    for title, rows in groups:
        rendered = []
        for row in rows:
            present = [f for f in row if f in fields]
            if len(present) == 1:
                rendered.append(present[0])
            elif present:
                rendered.append(Row(*[Column(f, css_class="col-md") for f in present]))
        if rendered:
            parts.append(Fieldset(title, *rendered) if title else Layout(*rendered))
    return Layout(*parts)


class CustomerForm(ContactCleaningMixin, forms.ModelForm):
    """Create or edit a person or an organisation.

    The fields depend on the kind and on the user: birth date and annual income only for
    roles that may see them, the owner only for those who may reassign work. On create, an
    email or phone that another customer already has stops the save with a warning until
    the user ticks "create anyway".
    """

    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    organisation_ref = forms.CharField(
        label=_("Organisation"),
        required=False,
        help_text=_("Start typing the organisation's name and pick it from the list."),
        widget=forms.TextInput(
            attrs={
                "list": "organisation-options",
                "autocomplete": "off",
                "hx-get": reverse_lazy("customers:organisation_options"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#organisation-options",
            }
        ),
    )
    tag_names = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separated by commas."),
    )
    allow_duplicate = forms.BooleanField(
        label=_("Create anyway: I have checked that this is a different customer"),
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Customer
        fields = sorted(set(PERSON_FIELDS) | set(ORGANISATION_FIELDS))
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "consent_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        help_texts = {"consent_at": _("Leave empty for now.")}

    def __init__(self, *args, user, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.kind = kind
        self.duplicates: list[Customer] = []
        self.instance.kind = kind
        wanted = list(PERSON_FIELDS if kind == CustomerKind.PERSON else ORGANISATION_FIELDS)
        if kind == CustomerKind.PERSON:
            wanted.insert(1, "organisation_ref")
        if not roles.may(user, "view_sensitive_fields"):
            wanted = [f for f in wanted if f not in SENSITIVE_FIELDS]
        if not roles.may(user, "reassign_work"):
            wanted.remove("owner")
        wanted += ["tag_names"]
        if self.instance.pk is None:
            wanted.append("allow_duplicate")
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        if "owner" in self.fields:
            self.fields["owner"].queryset = selectors.owner_choices()
        if self.instance.pk:
            self.initial.setdefault(
                "tag_names", ", ".join(t.name for t in self.instance.tags.all())
            )
            if self.instance.organisation_id:
                self.initial.setdefault(
                    "organisation_ref", organisation_label(self.instance.organisation)
                )
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["name"].error_messages["required"] = _("Enter a name.")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = _layout(list(self.fields))

    def clean_name(self):
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name

    def clean_organisation_ref(self):
        text = (self.cleaned_data.get("organisation_ref") or "").strip()
        if not text:
            return None
        orgs = Customer.objects.organisations()
        match = ORG_REF_RE.search(text)
        found = (
            list(orgs.filter(pk=int(match.group(1))))
            if match
            else list(orgs.filter(name__iexact=text)[:2])
        )
        if not found:
            raise forms.ValidationError(_("No organisation is called “%(name)s”.") % {"name": text})
        if len(found) > 1:
            raise forms.ValidationError(
                _("Several organisations are called “%(name)s”: pick one from the list.")
                % {"name": text}
            )
        if self.instance.pk and found[0].pk == self.instance.pk:
            raise forms.ValidationError(_("A customer cannot belong to itself."))
        return found[0]

    def clean_tag_names(self):
        names = sorted(
            {
                n.strip().lower()
                for n in self.cleaned_data.get("tag_names", "").split(",")
                if n.strip()
            }
        )
        too_long = [n for n in names if len(n) > Tag._meta.get_field("name").max_length]
        if too_long:
            raise forms.ValidationError(_("A tag has at most 50 characters."))
        if not roles.can(self.user, "add", Tag):
            known = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
            unknown = [n for n in names if n not in known]
            if unknown:
                raise forms.ValidationError(
                    _("Unknown tags: %(names)s. Only managers create new tags.")
                    % {"names": ", ".join(unknown)}
                )
        return names

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("marketing_consent") and not cleaned.get("consent_method"):
            self.add_error("consent_method", _("Say how the customer gave consent."))
        consent_at = cleaned.get("consent_at")
        if consent_at and consent_at > timezone.now():
            self.add_error("consent_at", _("Consent cannot be given in the future."))
        birth_date = cleaned.get("birth_date")
        if birth_date and birth_date > timezone.localdate():
            self.add_error("birth_date", _("The birth date is in the future."))
        if self.instance.pk is None and not self.errors:
            self.duplicates = selectors.find_duplicates(
                email=cleaned.get("email", ""), phone=cleaned.get("phone", "")
            )
            if self.duplicates and not cleaned.get("allow_duplicate"):
                self.fields["allow_duplicate"].widget = forms.CheckboxInput()
                raise forms.ValidationError(
                    _(
                        "Another customer already has this email or phone. Open it below, or "
                        "tick “Create anyway” if this really is a different customer."
                    ),
                    code="duplicate",
                )
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "organisation_ref" in self.fields and "organisation_ref" in self.cleaned_data:
            self.instance.organisation = self.cleaned_data["organisation_ref"]


class ContactDetailsForm(ContactCleaningMixin, forms.ModelForm):
    """The reduced form of support agents: contact details only."""

    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Customer
        fields = [*CONTACT_FIELDS, "website"]

    def __init__(self, *args, user=None, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.kind != CustomerKind.ORGANISATION:
            del self.fields["website"]
        self.duplicates = []
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = _layout(list(self.fields))


class InteractionForm(forms.ModelForm):
    """The quick-log form on the customer page."""

    link = forms.ChoiceField(label=_("About"), required=False)

    class Meta:
        model = Interaction
        fields = ["channel", "direction", "occurred_at", "duration_minutes", "subject", "body"]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "body": forms.Textarea(attrs={"rows": 2}),
            "duration_minutes": forms.NumberInput(attrs={"min": 0, "max": 1440}),
        }

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.customer = customer
        self.related = None
        self.fields["link"].choices = [("", _("Nothing in particular"))] + selectors.link_choices(
            user=user, customer=customer
        )
        if not self.is_bound:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("channel", Channel.PHONE)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("channel", css_class="col-sm"), Column("direction", css_class="col-sm")),
            Row(
                Column("occurred_at", css_class="col-sm"),
                Column("duration_minutes", css_class="col-sm"),
            ),
            "subject",
            "body",
            "link",
        )

    def clean_occurred_at(self):
        when = self.cleaned_data["occurred_at"]
        if when > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(
                _("Log an interaction after it happened; plan future ones as tasks.")
            )
        return when

    def clean_duration_minutes(self):
        minutes = self.cleaned_data.get("duration_minutes")
        if minutes is not None and minutes > 24 * 60:
            raise forms.ValidationError(_("A duration is at most 24 hours (1440 minutes)."))
        return minutes

    def clean_link(self):
        value = self.cleaned_data.get("link")
        if value:
            self.related = selectors.resolve_link(
                user=self.user, customer=self.customer, value=value
            )
            if self.related is None:
                raise forms.ValidationError(_("Choose a deal or ticket of this customer."))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("duration_minutes") and cleaned.get("channel") not in TIMED_CHANNELS:
            self.add_error(
                "duration_minutes",
                _("A duration applies to calls, meetings and chats only."),
            )
        return cleaned


class NeedForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ["description", "priority"]

    def clean_description(self):
        text = " ".join((self.cleaned_data.get("description") or "").split())
        if not text:
            raise forms.ValidationError(_("Describe what the customer needs."))
        return text


class NeedStatusForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ["status"]


class BulkActionForm(forms.Form):
    """Bulk action on the ticked customers of the list page."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=True)
    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.choices)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False)
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", "---------"), *LifecycleStage.choices], required=False
    )
    next = forms.CharField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.owner_choices()
        ids = self.data.getlist("ids") if self.is_bound else []
        self.fields["ids"].choices = [(i, i) for i in ids if str(i).isdigit()][:500]
        self.fields["ids"].error_messages["required"] = _("Tick at least one customer.")
        style_widgets(self)
        if not roles.may(user, "reassign_work"):
            self.fields["action"].choices = [
                c for c in BulkAction.choices if c[0] != BulkAction.ASSIGN_OWNER
            ]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        needed = {
            BulkAction.ASSIGN_OWNER: "owner",
            BulkAction.ADD_TAG: "tag",
            BulkAction.CHANGE_STAGE: "stage",
        }.get(action)
        if needed and not cleaned.get(needed):
            self.add_error(needed, _("Choose a value for this action."))
        else:
            cleaned["value"] = cleaned.get(needed) if needed else None
        return cleaned


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    query = forms.CharField(required=False, max_length=1000)


class MergeForm(forms.Form):
    """Which of two customers to keep; the other is folded into it."""

    keep = forms.ModelChoiceField(label=_("Keep"), queryset=Customer.objects.all())
    drop = forms.ModelChoiceField(
        label=_("Merge into it and delete"), queryset=Customer.objects.all()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        visible = roles.visible(user, Customer)
        self.fields["keep"].queryset = visible
        self.fields["drop"].queryset = visible

    def clean(self):
        cleaned = super().clean()
        keep, drop = cleaned.get("keep"), cleaned.get("drop")
        if keep and drop:
            if keep.pk == drop.pk:
                raise forms.ValidationError(_("Choose two different customers."))
            if not (roles.can(self.user, "change", keep) and roles.can(self.user, "delete", drop)):
                raise forms.ValidationError(_("You may not merge these customers."))
        return cleaned


class ErasureConfirmForm(forms.Form):
    """Erasing personal data cannot be undone: the admin types the customer's name."""

    confirm_name = forms.CharField(
        label=_("Type the customer's name to confirm"), max_length=200, strip=True
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_name(self):
        value = self.cleaned_data["confirm_name"]
        if " ".join(value.split()).casefold() != " ".join(self.customer.name.split()).casefold():
            raise forms.ValidationError(
                _("This is not the customer's name; nothing was erased."), code="mismatch"
            )
        return value
