"""Rendering email templates over a customer's fields, sandboxed.

Subjects and bodies are written by staff in Django's template language, but they are
rendered by an engine of their own: no template loaders (so {% include %} and {% extends %}
find nothing), no libraries beyond the built-ins, autoescape on, and a context of plain
strings (a fixed set of customer fields), so a template can reach no object, method or file.
A template that does not compile or render gives a ValidationError with a readable message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape as html_unescape

from django.core.exceptions import ValidationError
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import VariableNode
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The fields a template may use: name -> description shown beside the editor.
FIELDS = {
    "name": gettext_lazy("full name"),
    "first_name": gettext_lazy("first name (first word of the name)"),
    "email": gettext_lazy("email"),
    "phone": gettext_lazy("phone"),
    "city": gettext_lazy("city"),
    "region": gettext_lazy("region"),
    "country": gettext_lazy("country code"),
    "company": gettext_lazy("organisation name"),
    "owner_name": gettext_lazy("account owner's name"),
    "owner_email": gettext_lazy("account owner's email"),
}

SAMPLE = {
    "name": "Alex Example",
    "first_name": "Alex",
    "email": "alex@example.com",
    "phone": "+14155550100",
    "city": "Springfield",
    "region": "",
    "country": "US",
    "company": "Example Ltd",
    "owner_name": "Sam Seller",
    "owner_email": "sam@example.com",
}

_engine = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=True, debug=False)


def _sandbox_tags() -> Library:
    """The built-in tags without those that reach beyond the context: {% debug %} (prints
    the loaded modules), {% load %}, {% include %}, {% extends %}, {% block %} (loader tags
    are left out altogether), {% url %} and {% csrf_token %}."""
    lib = Library()
    blocked = {"debug", "load", "url", "csrf_token"}
    lib.tags = {k: v for k, v in defaulttags.register.tags.items() if k not in blocked}
    return lib


_engine.template_builtins = [_sandbox_tags(), defaultfilters.register]

# Addresses in a body, made into tracked links in campaign messages.
URL_RE = re.compile(r"https?://[^\s<>\"'()]+[^\s<>\"'().,;:!?]")


def customer_context(customer) -> dict[str, str]:
    """The fixed template context of one customer (organisation and owner select_related)."""
    owner = customer.owner
    org = customer.organisation
    return {
        "name": customer.name,
        "first_name": (customer.name.split() or [""])[0],
        "email": customer.email,
        "phone": customer.phone,
        "city": customer.city,
        "region": customer.region,
        "country": customer.country,
        "company": org.name if org else "",
        "owner_name": (owner.get_full_name() or owner.get_username()) if owner else "",
        "owner_email": owner.email if owner else "",
    }


def _compile(source: str):
    try:
        template = _engine.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(_("The template has an error: %(error)s") % {"error": exc}) from exc
    unknown = set()
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        var = node.filter_expression.var
        lookups = getattr(var, "lookups", None)
        if lookups and lookups[0] not in FIELDS:
            unknown.add(lookups[0])
        elif lookups and len(lookups) > 1:
            unknown.add(".".join(lookups))
    if unknown:
        raise ValidationError(
            _("Unknown field %(fields)s. Available fields: %(available)s.")
            % {
                "fields": ", ".join("{{ " + u + " }}" for u in sorted(unknown)),
                "available": ", ".join(FIELDS),
            }
        )
    return template


def render(source: str, context: dict[str, str], *, autoescape: bool = True) -> str:
    """Render one template source over a customer context; ValidationError when it fails."""
    template = _compile(source)
    try:
        return template.render(Context(context, autoescape=autoescape))
    except Exception as exc:  # any failure of staff-written text is a form error, not a 500
        raise ValidationError(
            _("The template cannot be rendered: %(error)s") % {"error": exc}
        ) from exc


def check(source: str) -> None:
    """Raise ValidationError if the source would not render for a customer."""
    render(source, SAMPLE)


@dataclass
class Message:
    subject: str
    text: str
    html: str


def render_message(
    subject_source: str,
    body_source: str,
    context: dict[str, str],
    *,
    link=None,
    footer_text: str = "",
    footer_html: str = "",
    pixel_url: str = "",
) -> Message:
    """The subject, the plain-text part and the HTML part of one message.

    The HTML part is rendered with autoescape (a customer's name cannot inject markup) and
    its line breaks become paragraphs; `link(url)` (campaigns) replaces every address in the
    body by a tracked one, in both parts.
    """
    subject = " ".join(render(subject_source, context, autoescape=False).split())
    text = render(body_source, context, autoescape=False)
    html_body = render(body_source, context, autoescape=True)
    html = linebreaks(html_body, autoescape=False)

    def html_link(match):
        url = html_unescape(match.group(0))
        target = link(url) if link else url
        return f'<a href="{escape(target)}">{match.group(0)}</a>'

    html = URL_RE.sub(html_link, html)
    if link:
        text = URL_RE.sub(lambda m: link(m.group(0)), text)
    if footer_text:
        text = f"{text.rstrip()}\n\n-- \n{footer_text}\n"
    if footer_html:
        html += f'<hr><p style="font-size:small;color:#666">{footer_html}</p>'
    if pixel_url:
        html += f'<img src="{escape(pixel_url)}" width="1" height="1" alt="">'
    return Message(subject=subject[:200], text=text, html=html)
