"""Fuzzing every HTML form of the project: no input answers a 500.

The forms are found, not listed: every pattern of tests/crm/access_table.py that takes a
POST (forms and actions; not the API, not the admin site) is a target, and a new form is
picked up as soon as it has its row there. For each target:

- the user is the first of manager, admin, rep, agent whom the table lets past the door
  (a POST answered 200/302/400); a target nobody may use (all 403/404/L) has nothing to fuzz;
- the field names come from the HTML: the target's own page (GET) when it has one, else
  the forms of the other pages whose `action` is the target (a crawl of every page and
  object page of the table, as that user); a link of a crawled page gives the query string
  of a form that needs one (a new deal from a customer's page: `?customer=`);
- hypothesis posts at least 100 bodies: the form's field names (plus unknown keys) with
  random text, unicode, NUL bytes, long strings, odd numbers and dates, the options of the
  selects, several values for one key, and a small random file for file inputs;
- each request runs in a savepoint that is rolled back (MatrixBase.ask of the access
  matrix), so every example sees the same fixtures.

A 500 fails with the body that caused it; a 200 must be an HTML page (the form again, with
its messages). Run only these with `pytest -m fuzz`.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.crm import access_table
from tests.crm.access_table import TABLE
from tests.crm.test_access_matrix import MatrixBase, reverse_pattern, rule_for, url_patterns

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FORM_FUZZ_EXAMPLES", "100"))  # fewer only while debugging
USERS = ("mgr", "admin", "rep", "agent")  # who posts: the first one the table lets in
PASSES = ("200", "302", "301", "400")
SKIPPED_KINDS = (access_table.ADMIN, access_table.API)
CRAWLED_KINDS = (access_table.PAGE, access_table.OBJECT, access_table.FORM)
NO_FUZZ = {"logout"}
# The query string of a form no fixture page links to (the duplicates page lists none).
QUERIES = {"customers:customer_merge": "a={mine[customer].pk}&b={theirs[customer].pk}"}


def _reset_url(case, column):
    user = case.users[column]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])


def _unsubscribe_url(case, column):
    from marketing.models import CampaignRecipient
    from marketing.services import unsubscribe_url

    return urlsplit(unsubscribe_url(CampaignRecipient.objects.order_by("pk")[0].pk)).path


# Targets whose table URL carries a forged token: the real one opens the form.
URLS = {"password_reset_confirm": _reset_url, "marketing:unsubscribe": _unsubscribe_url}
# Forms the table says 404 without a query string (?customer=): the crawl finds the link.
NEEDS_QUERY = {
    "sales:order_create",
    "sales:task_create",
}  # no fields, and it ends the session the other examples need


# --- the forms of a page ---------------------------------------------------------------


class FormParser(HTMLParser):
    """The POST forms of a page (action, fields, select options, file inputs) and its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: set[str] = set()
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.add(a["href"])
        elif tag == "form":
            self._form = {
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").lower(),
                "fields": {},
                "files": set(),
            }
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag in ("input", "button", "textarea", "select"):
            name = a["name"]
            values = self._form["fields"].setdefault(name, set())
            if tag == "input" and (a.get("type") or "").lower() == "file":
                self._form["files"].add(name)
            elif a.get("value") is not None:
                values.add(a["value"])
            if tag == "select":
                self._select = name
        elif tag == "option" and self._select and a.get("value") is not None:
            self._form["fields"][self._select].add(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


# --- what to post ----------------------------------------------------------------------

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "0",
        "-1",
        "-0",
        "1e309",
        "-99999999999999999999999999",
        "99999999999999999999999999999999999999",
        "3.14159265358979323846264338327950288419716939937510",
        "NaN",
        "inf",
        "-inf",
        "0x10",
        "1,000.50",
        "１２３",
        "2024-02-30",
        "0000-00-00",
        "9999-12-31",
        "31/12/2024",
        "2024-13-01T25:61",
        "1970-01-01T00:00:00+99:00",
        "-2024-01-01",
        "yesterday",
        "true",
        "null",
        "[]",
        "{}",
        '{"a": [1, {"b": null}]}',
        "<script>alert(1)</script>",
        "'; DROP TABLE customers_customer; --",
        "%s%s%n",
        "{{ 7|add:1 }}",
        "../../etc/passwd",
        "\u202e\ufeff\U0001f600\ud7ff",
        "客户 名称",
        "a@b",
        "@@@",
        "x" * 300,
        "é" * 5000,
        "9" * 1000,
    ]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
).map(str)
DATES = st.one_of(
    st.dates().map(lambda d: d.strftime(st_choice_format(d))),
    st.datetimes().map(str),
)


def st_choice_format(day) -> str:
    """A date format chosen by the day itself (deterministic for hypothesis)."""
    return ("%Y-%m-%d", "%d/%m/%Y", "%m-%d-%y", "%Y%m%d", "%d.%m.%Y %H:%M")[day.toordinal() % 5]


RANDOM_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.integers(min_value=256, max_value=20000).map(lambda n: "Z" * n),
)


def values_for(options: set[str]):
    """One value for a field: often one of the form's own options (to get past the first
    checks), else anything."""
    mixed = [ODD_TEXT, NUMBERS, DATES, RANDOM_TEXT]
    if options:
        mixed.insert(0, st.sampled_from(sorted(options)))
        mixed.insert(0, st.sampled_from(sorted(options)))
    return st.one_of(mixed)


def body_strategy(fields: dict[str, set[str]], files: set[str]):
    """A POST body: each known field absent, one value or a list of values; unknown keys
    too; a small random file for each file input (or a random value instead)."""
    parts = {}
    for name, options in sorted(fields.items()):
        if name == "csrfmiddlewaretoken" or name in files:
            continue
        one = values_for(options)
        parts[name] = st.one_of(st.none(), one, one, one, st.lists(one, min_size=2, max_size=4))
    for name in sorted(files):
        parts[name] = st.one_of(
            st.none(),
            st.builds(
                lambda content, ext: SimpleUploadedFile(f"upload{ext}", content),
                st.binary(max_size=600),
                st.sampled_from([".csv", ".xlsx", ".txt", ".pdf", ""]),
            ),
            st.builds(
                lambda text: SimpleUploadedFile("upload.csv", text.encode("utf-8", "replace")),
                st.text(alphabet=st.sampled_from(list('abc,;"\n\r\x00客1-')), max_size=300),
            ),
            ODD_TEXT,
        )
    extra = st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in fields),
        st.one_of(ODD_TEXT, RANDOM_TEXT, st.lists(ODD_TEXT, max_size=3)),
        max_size=3,
    )

    def assemble(known, unknown):
        body = {k: v for k, v in known.items() if v is not None}
        body.update(unknown)
        return body

    return st.builds(assemble, st.fixed_dictionaries(parts), extra)


# --- the targets -----------------------------------------------------------------------


def is_target(key: str, rule) -> bool:
    """An HTML pattern that takes a POST (the access table names every pattern)."""
    return not (rule.skip or rule.post is None or rule.kind in SKIPPED_KINDS or key in NO_FUZZ)


def column_for(key: str, rule) -> str | None:
    """Who posts: the first of USERS the table lets past the door, else anonymous."""
    column = next((c for c in USERS if rule.post[access_table.COLUMNS.index(c)] in PASSES), None)
    if column is None and rule.post[0] in PASSES:
        column = "anon"
    if column is None and (key in URLS or key in NEEDS_QUERY):
        column = "mgr"
    return column


# From the table, not the resolver: loading the URLconf while the tests are collected
# would load it with the development settings (DEBUG's media pattern included).
TARGETS = sorted(key for key, rule in TABLE.items() if "*" not in key and is_target(key, rule))


class FormFuzz(MatrixBase):
    crawled: dict = {}  # column -> (path -> [form], path -> {query string})

    def client_for(self, column):
        client = self.client_class()
        if column != "anon":
            client.force_login(self.users[column])
        return client

    def crawl(self, column):
        """Every page and object page of the table, as this user: its forms and links."""
        if column in FormFuzz.crawled:
            return FormFuzz.crawled[column]
        client = self.client_for(column)
        forms, queries = {}, {}
        for pattern in url_patterns():
            rule = rule_for(pattern)
            if rule is None or rule.skip or rule.kind not in CRAWLED_KINDS:
                continue
            try:
                url = reverse_pattern(pattern, self.kwargs_for(pattern, rule, "mine"))
            except LookupError:
                continue
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            page = parse(response.content.decode())
            for form in page.forms:
                if form["method"] == "post":
                    action = urlsplit(urljoin(url, form["action"]))
                    forms.setdefault(action.path, []).append(form)
                    if action.query:
                        queries.setdefault(action.path, set()).add(action.query)
            for link in page.links:
                target = urlsplit(urljoin(url, link))
                if target.query:
                    queries.setdefault(target.path, set()).add(target.query)
        FormFuzz.crawled[column] = (forms, queries)
        return forms, queries

    def form_of(self, pattern, rule, column):
        """(url to post to, fields, file fields) of a target, from the HTML."""
        url = reverse_pattern(pattern, self.kwargs_for(pattern, rule, "mine"))
        client = self.client_for(column)
        if pattern.key in URLS:
            # A reset link redirects to its set-password page (the token moves to the session).
            response = client.get(URLS[pattern.key](self, column), follow=True)
            url = (
                response.redirect_chain[-1][0]
                if response.redirect_chain
                else response.request["PATH_INFO"]
            )
            fields, files = merge(
                [f for f in parse(response.content.decode()).forms if f["method"] == "post"]
            )
            return url, fields, files, client
        forms, queries = self.crawl(column)
        known = sorted(queries.get(url, ()))
        if pattern.key in QUERIES:
            known.append(QUERIES[pattern.key].format(**self.objects_by_side))
        candidates = [url] + [f"{url}?{q}" for q in known]
        for candidate in candidates:
            response = client.get(candidate)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            own = [
                f
                for f in parse(response.content.decode()).forms
                if f["method"] == "post" and urlsplit(urljoin(candidate, f["action"])).path == url
            ]
            if own:
                return candidate, *merge(own), client
        if url in forms:  # an action: its form is on another page
            return candidates[-1], *merge(forms[url]), client
        return candidates[-1], {}, set(), client

    def fuzz(self, key):
        pattern = next(p for p in url_patterns() if p.key == key)
        rule = rule_for(pattern)
        column = column_for(key, rule)
        if column is None:
            pytest.skip(f"{key}: nobody may post to it (the table's post codes: {rule.post})")
        url, fields, files, client = self.form_of(pattern, rule, column)
        # The URL's fields must be found: a form with none would be fuzzed blind.
        assert fields or files or rule.kind == access_table.ACTION, (
            f"{key}: no form found for {url} as {column}"
        )
        self.last_writes = self.writes()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(body=body_strategy(fields, files))
        def post(body):
            for upload in body.values():
                if isinstance(upload, SimpleUploadedFile):
                    upload.seek(0)
            got, _location, _written = self.ask(client, "POST", url, rule.kind, data=body)
            assert not str(got).startswith("5"), f"POST {url} as {column}: {got}\nbody: {body!r}"
            response = self.last_response
            if got == 200:
                assert "html" in response.get("Content-Type", ""), response.get("Content-Type")

        post()


def merge(forms: list[dict]) -> tuple[dict[str, set[str]], set[str]]:
    fields: dict[str, set[str]] = {}
    files: set[str] = set()
    for form in forms:
        for name, values in form["fields"].items():
            fields.setdefault(name, set()).update(values)
        files |= form["files"]
    return fields, files


def _test_for(key):
    def test(self):
        self.fuzz(key)

    test.__name__ = f"test_{key.replace(':', '__')}"
    test.__doc__ = f"{EXAMPLES} fuzzed POSTs to {key}: never a 500."
    return test


class TestFormFuzz(FormFuzz):
    def test_there_are_forms_to_fuzz(self):
        """Every pattern of the resolver that takes a POST has its fuzz test."""
        posting = {p.key for p in url_patterns() if (r := rule_for(p)) and is_target(p.key, r)}
        assert posting == set(TARGETS)
        assert {"customers:customer_create", "service:ticket_create", "login"} <= posting


for _key in TARGETS:
    setattr(TestFormFuzz, f"test_{_key.replace(':', '__')}", _test_for(_key))
del _key
