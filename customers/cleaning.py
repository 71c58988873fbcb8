"""Normalising contact data, shared by the forms, the importer and the API.

Each function takes raw text and returns (clean value, error message or ""), so a form shows
the message at its field and the importer at its row and column.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .choices import Education, Gender

GENDER_SYNONYMS = {
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "woman": Gender.FEMALE,
    "w": Gender.FEMALE,
    "女": Gender.FEMALE,
    "女性": Gender.FEMALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "man": Gender.MALE,
    "男": Gender.MALE,
    "男性": Gender.MALE,
    "other": Gender.OTHER,
    "x": Gender.OTHER,
    "diverse": Gender.OTHER,
    "其他": Gender.OTHER,
    "": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
    "n/a": Gender.UNKNOWN,
    "未知": Gender.UNKNOWN,
}
EDUCATION_SYNONYMS = {
    "primary": Education.PRIMARY,
    "elementary": Education.PRIMARY,
    "小学": Education.PRIMARY,
    "secondary": Education.SECONDARY,
    "high school": Education.SECONDARY,
    "高中": Education.SECONDARY,
    "中学": Education.SECONDARY,
    "vocational": Education.VOCATIONAL,
    "college": Education.VOCATIONAL,
    "大专": Education.VOCATIONAL,
    "专科": Education.VOCATIONAL,
    "bachelor": Education.BACHELOR,
    "bachelors": Education.BACHELOR,
    "ba": Education.BACHELOR,
    "bsc": Education.BACHELOR,
    "undergraduate": Education.BACHELOR,
    "本科": Education.BACHELOR,
    "学士": Education.BACHELOR,
    "master": Education.MASTER,
    "masters": Education.MASTER,
    "ma": Education.MASTER,
    "msc": Education.MASTER,
    "mba": Education.MASTER,
    "硕士": Education.MASTER,
    "研究生": Education.MASTER,
    "doctorate": Education.DOCTORATE,
    "phd": Education.DOCTORATE,
    "doctor": Education.DOCTORATE,
    "博士": Education.DOCTORATE,
    "": Education.UNKNOWN,
    "unknown": Education.UNKNOWN,
}


def normalize_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """E.164 ("+14155550123") from what people type; region for numbers without "+"."""
    text = (raw or "").strip()
    if not text:
        return "", ""
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return "", _("“%(value)s” is not a phone number.") % {"value": text}
    if not phonenumbers.is_valid_number(number):
        return "", _("“%(value)s” is not a valid phone number.") % {"value": text}
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def normalize_email(raw: str) -> tuple[str, str]:
    """Trimmed, lower-case and syntactically valid, or an error."""
    text = (raw or "").strip().lower()
    if not text:
        return "", ""
    try:
        validate_email(text)
    except ValidationError:
        return "", _("“%(value)s” is not a valid email address.") % {"value": raw.strip()}
    return text, ""


def normalize_choice(raw: str, synonyms: dict[str, str], label: str) -> tuple[str, str]:
    key = " ".join((raw or "").strip().lower().split())
    if key in synonyms:
        return str(synonyms[key]), ""
    return "", _("“%(value)s” is not a known %(label)s.") % {"value": raw.strip(), "label": label}


def normalize_gender(raw: str) -> tuple[str, str]:
    return normalize_choice(raw, GENDER_SYNONYMS, _("gender"))


def normalize_education(raw: str) -> tuple[str, str]:
    return normalize_choice(raw, EDUCATION_SYNONYMS, _("education level"))
