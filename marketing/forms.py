"""Forms of the marketing app: validation only (templates are test-rendered here, so a bad
template is an error at its field, never a 500 at send time)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm import roles
from customers.models import SavedView, Tag

from . import rendering
from .choices import Language, TargetKind
from .models import Campaign, EmailTemplate


def fields_help() -> str:
    from django.utils.translation import gettext

    names = ", ".join("{{ " + f + " }}" for f in rendering.FIELDS)
    return gettext("Fields: %(fields)s, for example {{ first_name }}.") % {"fields": names}


def _checked(form, name: str) -> str:
    value = form.cleaned_data.get(name, "")
    try:
        rendering.check(value)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from exc
    return value


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject_en", "body_en", "subject_zh", "body_zh"]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 8}),
            "body_zh": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("body_en", "body_zh"):
            self.fields[name].help_text = fields_help()

    def clean_subject_en(self):
        return _checked(self, "subject_en")

    def clean_body_en(self):
        return _checked(self, "body_en")

    def clean_subject_zh(self):
        return _checked(self, "subject_zh")

    def clean_body_zh(self):
        return _checked(self, "body_zh")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ComposeForm(forms.Form):
    """An email to one customer; subject and body may use the customer's fields."""

    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=EmailTemplate.objects.all(),
        required=False,
        empty_label=_("No template"),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}), required=False
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _("At most %(mb)s MB in all.") % {
            "mb": settings.EMAIL_ATTACHMENTS_MAX_MB
        }

    def clean_subject(self):
        return _checked(self, "subject")

    def clean_body(self):
        return _checked(self, "body")

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if sum(f.size for f in files) > settings.EMAIL_ATTACHMENTS_MAX_MB * 1024 * 1024:
            raise ValidationError(
                _("Attachments may total at most %(mb)s MB.")
                % {"mb": settings.EMAIL_ATTACHMENTS_MAX_MB}
            )
        return files

    def clean(self):
        data = super().clean()
        template = data.get("template")
        # An empty subject or body takes the template's version in the chosen language.
        if template and data.get("language"):
            subject, body = template.version(data["language"])
            if not data.get("subject") and "subject" not in self.errors:
                data["subject"] = subject
            if not data.get("body") and "body" not in self.errors:
                data["body"] = body
        if "subject" not in self.errors and not data.get("subject"):
            self.add_error("subject", _("Write a subject or choose a template."))
        if "body" not in self.errors and not data.get("body"):
            self.add_error("body", _("Write a message or choose a template."))
        return data


class CampaignForm(forms.ModelForm):
    """Name, template, target and the measurement settings of a campaign."""

    class Meta:
        model = Campaign
        fields = [
            "name",
            "template",
            "language_mode",
            "target_kind",
            "segment",
            "saved_view",
            "tags",
            "holdout_percent",
            "attribution_days",
            "track_opens",
        ]
        widgets = {"target_kind": forms.RadioSelect, "tags": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from django.apps import apps

        segment_model = apps.get_model("analytics", "Segment")
        self.fields["segment"].queryset = segment_model.objects.order_by("number")
        self.fields["segment"].label_from_instance = lambda s: f"{s.label} ({s.size})"
        self.fields["segment"].help_text = _("Segments of the latest segmentation run.")
        self.fields["saved_view"].queryset = roles.visible(user, SavedView)
        self.fields["saved_view"].help_text = _("One of your saved customer list views.")
        self.fields["tags"].queryset = Tag.objects.all()
        self.fields["tags"].required = False
        self.fields["holdout_percent"].help_text = _(
            "This share of the reachable customers, drawn at random, gets nothing: "
            "their orders are the baseline for the lift."
        )
        self.fields["attribution_days"].help_text = _(
            "Orders within this many days of the start are counted for the campaign."
        )

    def clean_holdout_percent(self):
        value = self.cleaned_data["holdout_percent"]
        if not 0 <= value <= 50:
            raise ValidationError(_("Choose a holdout between 0 and 50%."))
        return value

    def clean_attribution_days(self):
        value = self.cleaned_data["attribution_days"]
        if not 1 <= value <= 365:
            raise ValidationError(_("Choose between 1 and 365 days."))
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("target_kind")
        if kind == TargetKind.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose the segment to write to."))
        if kind == TargetKind.SAVED_VIEW and not data.get("saved_view"):
            self.add_error("saved_view", _("Choose the saved view to write to."))
        if kind == TargetKind.TAGS and not data.get("tags"):
            self.add_error("tags", _("Choose at least one tag."))
        return data


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean_send_at(self):
        from django.utils import timezone

        value = self.cleaned_data["send_at"]
        if value <= timezone.now():
            raise ValidationError(_("Choose a time in the future, or send now."))
        return value
