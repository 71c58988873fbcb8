import pytest
from django.core.exceptions import ValidationError

from marketing import rendering


def test_customer_fields_are_escaped_in_html_not_in_text():
    ctx = {**rendering.SAMPLE, "name": "<b>Tom & Jerry</b>"}
    msg = rendering.render_message("Hi {{ name }}", "Dear {{ name }}", ctx)
    assert msg.subject == "Hi <b>Tom & Jerry</b>"
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in msg.html
    assert "<b>Tom" not in msg.html
    assert msg.text == "Dear <b>Tom & Jerry</b>"


@pytest.mark.parametrize(
    "source, message",
    [
        ("Hello {{ name|nosuchfilter }}", "The template has an error"),
        ("{% if %}", "The template has an error"),
        ("{% load static %}", "The template has an error"),
        ("{% include 'base.html' %}", "The template has an error"),
        ("{% extends 'base.html' %}", "The template has an error"),
        ("{% debug %}", "The template has an error"),
        ("{% url 'home' %}", "The template has an error"),
        ("{{ customer.annual_income }}", "Unknown field"),
        ("{{ name.upper }}", "Unknown field"),
    ],
)
def test_bad_or_escaping_templates_are_validation_errors(source, message):
    with pytest.raises(ValidationError) as exc:
        rendering.check(source)
    assert message in " ".join(exc.value.messages)


def test_links_are_replaced_by_tracked_links_in_both_parts():
    msg = rendering.render_message(
        "s",
        "See https://a.example.com/x?p=1&q=2.",
        rendering.SAMPLE,
        link=lambda url: f"https://crm/c/{len(url)}",
    )
    url = "https://a.example.com/x?p=1&q=2"
    assert f"https://crm/c/{len(url)}" in msg.text
    assert f'href="https://crm/c/{len(url)}"' in msg.html
    assert msg.text.endswith(".")
