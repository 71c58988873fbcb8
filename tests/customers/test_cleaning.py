import pytest

from customers.cleaning import (
    normalize_education,
    normalize_email,
    normalize_gender,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("+86 139 1234 5678", "US", "+8613912345678"),
        ("139-1234-5678", "CN", "+8613912345678"),
        ("  ", "US", ""),
    ],
)
def test_phone_to_e164(raw, region, expected):
    assert normalize_phone(raw, region) == (expected, "")


@pytest.mark.parametrize("raw", ["12", "not a phone", "+1 000 000 0000"])
def test_bad_phone_gets_a_message(raw):
    value, error = normalize_phone(raw, "US")
    assert value == "" and raw.strip() in error


def test_email_lower_and_checked():
    assert normalize_email("  Ann.Lee@Example.COM ") == ("ann.lee@example.com", "")
    value, error = normalize_email("ann@@example")
    assert value == "" and "not a valid email" in error


def test_synonyms_for_gender_and_education():
    assert normalize_gender("F") == ("female", "")
    assert normalize_gender("男") == ("male", "")
    assert normalize_education("PhD") == ("doctorate", "")
    assert normalize_education("本科") == ("bachelor", "")
    value, error = normalize_education("kindergarten")
    assert value == "" and "kindergarten" in error
