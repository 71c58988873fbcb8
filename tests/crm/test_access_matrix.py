"""The access matrix: every URL pattern of the project, asked by every role, answers as the
role table in tests/crm/access_table.py (which mirrors DESIGN.md "Roles") says.

- `test_every_url_pattern_is_classified` walks the resolver (admin site and API router
  included) and fails on any pattern the table does not name, saying how to add it.
- The response tests request each pattern as anonymous, a rep on their own object, a rep on
  another rep's object, an agent, a manager and an admin: GET, and for actions and forms a
  POST with an empty body. Each request runs in a savepoint that is rolled back, and any row
  it wrote (sessions aside) is a failure: an empty or refused POST must change nothing.

One set of fixtures serves the whole module (setUpTestData). Set ACCESS_MATRIX_PRINT=1 to
print the codes the app really answers, in the table's format, when adding many rows.
"""

from __future__ import annotations

import fnmatch
import os
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.api.models import ApiToken, WebhookEndpoint
from crm.history import audited_model
from crm.roles import Role
from customers.import_models import ImportBatch
from customers.models import Need, SavedView
from sales import services as sales_services
from sales.models import Notification, Task
from service import services as service_services
from tests.crm import access_table
from tests.crm.access_table import COLUMNS, TABLE, Rule
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderLineFactory,
    ProductFactory,
    TagFactory,
    TicketFactory,
    UserFactory,
)
from tests.sales.factories import make_pipeline
from tests.service.factories import ArticleFactory, CannedReplyFactory, FeedbackFactory

LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")
# Tables a request may write without changing anything a user owns.
WRITES_ALLOWED = {"django_session", "crm_usersession", "axes_accesslog", "axes_accessattempt"}


# --- walking the resolver ----------------------------------------------------------------


class Pattern:
    """One URL pattern: its full route, its name (with namespaces) and its view."""

    def __init__(self, route: str, name: str, pattern: URLPattern, namespace: str):
        self.route = route
        self.name = name
        self.pattern = pattern
        self.namespace = namespace

    @property
    def key(self) -> str:
        """How the table names it: the URL name, or the route when it has none."""
        return self.name or self.route

    @property
    def view(self) -> str:
        callback = self.pattern.callback
        target = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        target = target or callback
        return f"{target.__module__}.{getattr(target, '__qualname__', target)}"

    @property
    def converters(self) -> list[str]:
        names = (
            list(self.pattern.pattern.converters)
            if hasattr(self.pattern.pattern, "converters")
            else []
        )
        regex = self.pattern.pattern.regex
        return names or list(regex.groupindex)


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """Every URLPattern of the project, recursively, with its full route and name."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        else:
            name = entry.name or ""
            if name and namespace:
                name = f"{namespace}:{name}"
            yield Pattern(prefix + str(entry.pattern), name, entry, namespace)


def rule_for(pattern: Pattern) -> Rule | None:
    """The table's rule for a pattern: its exact key, else the first matching wildcard."""
    if pattern.key in TABLE:
        return TABLE[pattern.key]
    for key, rule in TABLE.items():
        if "*" in key and fnmatch.fnmatchcase(pattern.key, key):
            return rule
    return None


def how_to_add(pattern: Pattern) -> str:
    if pattern.converters:
        example = 'rule(OBJECT, "customer", get="L 200 404 403 200 200")'
    else:
        example = 'rule(PAGE, get="L 200 - 403 200 200")'
    return (
        f"  URL pattern {pattern.route!r} (name {pattern.name or '(none)'!r}, view "
        f"{pattern.view}) is not in tests/crm/access_table.py.\n"
        f"    Add one line to TABLE with the codes DESIGN.md's role table asks for, e.g.\n"
        f'        "{pattern.key}": {example},\n'
        f"    (columns: {' '.join(COLUMNS)}; kinds, codes and objects are explained at the top\n"
        f"    of that file; ACCESS_MATRIX_PRINT=1 pytest {__name__.replace('.', '/')}.py -s\n"
        f"    prints what the app answers now, this pattern included)"
    )


# --- the fixtures: one object of each kind, for the rep ("mine") and another rep ("theirs")


def _make_objects(cls):
    users = {role: UserFactory(username=f"am_{role.value}", role=role) for role in Role}
    rep, peer = users[Role.SALES_REP], UserFactory(username="am_peer", role=Role.SALES_REP)
    manager, agent = users[Role.MANAGER], users[Role.SUPPORT_AGENT]
    cls.users = {
        "rep": rep,
        "rep*": rep,
        "agent": agent,
        "mgr": manager,
        "admin": users[Role.ADMIN],
    }
    pipeline = make_pipeline()
    lead = pipeline.stages.get(name="Lead")
    product = ProductFactory(unit_price=Decimal("12.50"))
    objects = {}
    for side, owner in (("mine", rep), ("theirs", peer)):
        customer = CustomerFactory(
            owner=owner,
            external_id=f"C-{side}",
            birth_date="1990-01-02",
            annual_income=50000,
        )
        order = OrderLineFactory(
            order__customer=customer, order__external_id=f"O-{side}", product=product
        ).order
        deal = sales_services.deal_create(
            customer=customer,
            title=f"Deal {side}",
            pipeline=pipeline,
            stage=lead,
            owner=owner,
            user=owner,
            lines=[
                sales_services.LineInput(product=product, quantity=1, unit_price=product.unit_price)
            ],
            expected_close=None,
            lost_reason="",
        )
        task = Task.objects.create(
            title=f"Call {side}",
            due_at=timezone.now() + timedelta(days=1),
            customer=customer,
            assignee=owner,
        )
        ticket = TicketFactory(customer=customer)
        interaction = InteractionFactory(customer=customer, user=owner)
        tag = TagFactory(name=f"tag-{side}")
        customer.tags.add(tag)
        feedback = FeedbackFactory(customer=customer, ticket=ticket)
        Notification.objects.create(user=owner, message="Due", task=task)
        objects[side] = {
            "customer": customer,
            "interaction": interaction,
            "tag": tag,
            "user": owner,
            "need": Need.objects.create(customer=customer, description="Needs a quote"),
            "deal": deal,
            "order": order,
            "task": task,
            "ticket": ticket,
            "feedback": feedback,
            "savedview": SavedView.objects.create(
                user=owner, name=f"view {side}", query_string="q=a"
            ),
            "token": ApiToken.issue(user=owner, name=f"sync {side}")[0],
        }
    shared = {
        "importbatch": ImportBatch.objects.create(
            kind="customers", original_name="c.csv", created_by=manager
        ),
        "jobrun": apps.get_model("analytics", "JobRun").objects.create(kind="segmentation"),
        "product": product,
        "article": ArticleFactory(),
        "cannedreply": CannedReplyFactory(),
    }
    _analytics_and_marketing(objects, shared, manager)
    cls.unsubscribe_token = shared.pop("unsubscribe_token")
    for side in objects:
        objects[side].update(shared)
    invitation = service_services.survey_invitation_create(
        customer=objects["mine"]["customer"], ticket=objects["mine"]["ticket"]
    )
    cls.survey_token = service_services.survey_token(invitation)
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    _admin_rows(objects["mine"], manager)
    cls.objects_by_side = objects


def _analytics_and_marketing(objects: dict, shared: dict, manager) -> None:
    """Per side: a ticket comment, a score, a recommendation and an email of the side's
    customer; shared: analytics results, an email template and a draft campaign (with a
    recipient), and an erasure record, so that their pages and admin pages are asked."""
    from customers.models import ErasureRecord
    from marketing.models import Campaign, CampaignRecipient, EmailTemplate, OutboundEmail
    from marketing.services import unsubscribe_url
    from service.models import TicketComment

    models = apps.get_model
    run = shared["jobrun"]
    for side, objs in objects.items():
        customer = objs["customer"]
        objs["ticketcomment"] = TicketComment.objects.create(
            ticket=objs["ticket"], author=objs["user"], body="Looking into it", is_public=True
        )
        objs["score"] = models("analytics", "CustomerScore").objects.create(
            customer=customer, churn_probability=0.4
        )
        objs["recommendation"] = models("analytics", "Recommendation").objects.create(
            customer=customer,
            product=shared["product"],
            rank=1,
            confidence=0.5,
            lift=1.5,
            because=[],
        )
        objs["email"] = OutboundEmail.objects.create(
            customer=customer,
            sender=objs["user"],
            to_address=customer.email or "c@example.com",
            language="en",
            subject=f"Hello {side}",
            body="Hi",
        )
    shared["segment"] = models("analytics", "Segment").objects.create(
        run=run, number=1, name="high_regular", size=1
    )
    shared["associationrule"] = models("analytics", "AssociationRule").objects.create(
        run=run,
        antecedents=[1],
        consequents=[2],
        antecedent_size=1,
        support=0.1,
        confidence=0.5,
        lift=1.2,
        baskets=10,
    )
    shared["forecast"] = models("analytics", "Forecast").objects.create(
        run=run,
        granularity="month",
        period_start=timezone.now().date().replace(day=1),
        row_kind="history",
        actual=Decimal("100"),
    )
    shared["satisfaction"] = models("analytics", "SatisfactionPeriod").objects.create(
        month=timezone.now().date().replace(day=1), responses=3, csat=4.2
    )
    template = EmailTemplate.objects.create(
        name="Offer", subject_en="Hi", body_en="Dear {{ name }}", subject_zh="您好", body_zh="您好"
    )
    # The campaign uses the template: deleting the template is refused (kept for results).
    campaign = Campaign.objects.create(
        name="Spring", template=template, target_kind="tags", created_by=manager
    )
    customer = objects["mine"]["customer"]
    recipient = CampaignRecipient.objects.create(
        campaign=campaign, customer=customer, email="c@example.com", language="en"
    )
    # Consenting, so that the unsubscribe link's GET has something it must not withdraw.
    customer.marketing_consent = True
    customer.save(update_fields=["marketing_consent"])
    shared["emailtemplate"], shared["campaign"] = template, campaign
    shared["unsubscribe_token"] = urlsplit(unsubscribe_url(recipient.pk)).path.split("/")[-2]
    ErasureRecord.objects.create(customer_ref=999, erased_by=manager, counts={"customer": 1})


def _admin_rows(mine: dict, manager) -> None:
    """One row of each model the admin site lists and the pages above do not make, so
    that every admin change page is really rendered for the admin."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from crm.api.models import WebhookDelivery
    from customers.models import CustomerMerge, LifecycleChange
    from ops.models import WorkerHeartbeat
    from service.models import Holiday, SLABreach, SLAPolicy

    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(url="https://example.com/hook", secret="s" * 32)
    WebhookDelivery.objects.create(endpoint=endpoint, event="customer.created", payload={})
    WorkerHeartbeat.objects.create(
        hostname="w1", queues="default", pid=1, started_at=now, seen_at=now
    )
    LifecycleChange.objects.create(customer=mine["customer"], to_stage="customer")
    CustomerMerge.objects.create(kept=mine["customer"], merged_id=999, merged_name="Old")
    policy = SLAPolicy.objects.first() or SLAPolicy.objects.create(
        priority="normal", name="Normal", first_response_minutes=60, resolution_minutes=480
    )
    Holiday.objects.create(policy=policy, date=now.date(), name="Holiday")
    SLABreach.objects.create(ticket=mine["ticket"], kind="resolution", due_at=now)
    seen = {"username": manager.username, "ip_address": "192.0.2.1", "user_agent": "test"}
    AccessAttempt.objects.create(**seen, attempt_time=now, failures_since_start=1)
    AccessLog.objects.create(**seen, attempt_time=now)
    AccessFailureLog.objects.create(**seen, attempt_time=now)


class MatrixBase(TestCase):
    answered: dict = {}  # ACCESS_MATRIX_PRINT: pattern key -> method -> column -> code

    @classmethod
    def setUpTestData(cls):
        _make_objects(cls)

    # kwargs for each object kind of the table; "side" is mine or theirs
    def kwargs_for(self, pattern: Pattern, rule: Rule, side: str) -> dict:
        objs = self.objects_by_side[side]
        names = pattern.converters
        kwargs = {}
        for name in names:
            if name == "format":
                kwargs[name] = "json"
            elif pattern.name == "admin:view_on_site":
                customer = objs["customer"]
                kwargs["content_type_id"] = ContentType.objects.get_for_model(customer).pk
                kwargs["object_id"] = customer.pk
            elif name == "object_id" or (name == "pk" and rule.kind == access_table.ADMIN):
                kwargs[name] = self.admin_object_id(pattern)
            elif name == "id":  # admin: a user's password page
                kwargs[name] = str(self.users["rep"].pk)
            else:
                kwargs[name] = self.value_for(rule, name, objs)
        return kwargs

    def value_for(self, rule: Rule, name: str, objs: dict):
        special = access_table.FIXED_KWARGS.get(rule.obj, {})
        if name in special:
            value = special[name]
            if value == "<survey_token>":
                return self.survey_token
            if value == "<unsubscribe_token>":
                return self.unsubscribe_token
            if value.startswith("<"):  # "<customer>": the pk of that fixture
                return objs[value.strip("<>")].pk
            return value
        obj = objs.get(rule.obj)
        if obj is not None and name == "pk":
            return obj.pk
        if obj is not None and name == "key":  # upsert by external id or sku
            return getattr(obj, "external_id", None) or getattr(obj, "sku", None) or obj.pk
        raise LookupError(
            f"no value for <{name}> of obj={rule.obj!r}: name a fixture object in the rule, or "
            f"add FIXED_KWARGS[{rule.obj!r}][{name!r}] in tests/crm/access_table.py"
        )

    def admin_object_id(self, pattern: Pattern) -> str:
        """The pk of a row of the model an admin URL is about (admin:<app>_<model>_<view>)."""
        name = pattern.name or ""
        for model in admin.site._registry:
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
            if name.startswith(prefix):
                row = model._default_manager.order_by("pk").first()
                return str(row.pk) if row is not None else "0"
        # The unnamed "<path:object_id>/" redirect of each model: any id will do.
        return str(self.users["rep"].pk)

    # --- requests -------------------------------------------------------------------------

    def writes(self) -> int:
        if connection.vendor != "postgresql":
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            )
            return {name: n for name, n in cursor.fetchall() if name not in WRITES_ALLOWED}

    def ask(self, client, method: str, url: str, kind: str, data=None):
        """One request in a savepoint that is rolled back: (status, location, written).

        The client's cookies are put back afterwards too, so a logout (or a login) in one
        request does not change who asks the next one. A POST sends `data` (default: an
        empty body); the response is kept in `self.last_response`."""
        cookies = client.cookies
        client.cookies = type(cookies)(cookies)
        cache.clear()  # the API's rate limits count every request of the column
        error = None
        with transaction.atomic():
            # The counters keep what a rolled-back savepoint wrote, so the last request's
            # "after" is this one's "before": one query per request.
            before = self.last_writes
            try:
                if method == "GET":
                    response = client.get(url)
                elif kind == access_table.API:
                    response = client.post(url, "{}", content_type="application/json")
                else:
                    response = client.post(url, data or {})
                self.last_response = response
            except Exception as exc:  # a 500: report it with the others
                error = f"500 ({type(exc).__name__}: {exc})"
            else:
                # A redirect to the login page comes from the middleware before any view
                # runs: nothing to count (this saves a third of the statistics queries).
                if describe(response.status_code, response.get("Location", "")) != "L":
                    self.last_writes = self.writes()
            transaction.set_rollback(True)
        client.cookies = cookies
        if error is not None:
            self.last_writes = self.writes()
            return error, "", []
        after = self.last_writes
        written = sorted(t for t, n in after.items() if n != before.get(t, 0))
        return response.status_code, response.get("Location", ""), written

    def check_column(self, column: str):
        client = Client()
        if column != "anon":
            client.force_login(self.users[column])
        self.last_writes = self.writes()
        problems = []
        printing = bool(os.environ.get("ACCESS_MATRIX_PRINT"))
        for pattern in url_patterns():
            rule = rule_for(pattern)
            if rule is None and printing:  # show what an unclassified pattern answers
                obj = "customer" if pattern.converters else None
                rule = access_table.rule("?", obj, get="? ? ? ? ? ?", post="? ? ? ? ? ?")
            if rule is None or rule.skip:
                continue
            side = "theirs" if column == "rep*" else "mine"
            if column == "rep*" and not pattern.converters:
                continue
            try:
                url = reverse_pattern(pattern, self.kwargs_for(pattern, rule, side))
            except LookupError as exc:
                problems.append(f"{pattern.key}: cannot build a URL ({exc})")
                continue
            for method, expected in rule.expectations(column):
                got, location, written = self.ask(client, method, url, rule.kind)
                code = describe(got, location)
                answered = MatrixBase.answered.setdefault(pattern.key, {})
                answered.setdefault(method, {})[column] = code
                if rule.obj == "history" and audited_model("customers.customer") is None:
                    expected = "L" if column == "anon" else "404"  # nothing is audited yet
                if not matches(expected, code):
                    problems.append(
                        f"{column:5} {method:4} {url}  ({pattern.key}): expected {expected}, got {code}"
                    )
                if written and not rule.writes_ok(column, method):
                    problems.append(
                        f"{column:5} {method:4} {url}  ({pattern.key}): wrote to {', '.join(written)}"
                    )
        return problems

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if os.environ.get("ACCESS_MATRIX_PRINT"):
            print("\n# What the app answers, as rows of TABLE (kinds and objects to be checked):")
            for key, methods in cls.answered.items():
                codes = {m: " ".join(methods[m].get(c, "-") for c in COLUMNS) for m in methods}
                post = f', post="{codes["POST"]}"' if "POST" in codes else ""
                print(f'    "{key}": rule(?, get="{codes.get("GET", "")}"{post}),')


def reverse_pattern(pattern: Pattern, kwargs: dict) -> str:
    """The URL of a pattern with these kwargs (unnamed patterns are filled in by hand)."""
    if pattern.name:
        try:
            return reverse(pattern.name, kwargs=kwargs)
        except Exception as exc:
            raise LookupError(str(exc)) from exc
    route = pattern.route
    for name, value in kwargs.items():
        for token in (f"<path:{name}>", f"<str:{name}>", f"<{name}>", f"(?P<{name}>.*)"):
            route = route.replace(token, str(value))
    route = route.replace("^", "").replace("$", "")
    return "/" + route


def matches(expected: str, code: str) -> bool:
    if expected == "A":  # the admin site's own answer for an admin (see access_table)
        return code in ("200", "302", "403", "405")
    return code == expected


def describe(status, location: str) -> str:
    """A response as the table writes it: L for a redirect to a login page, else the code."""
    if status == 302 and any(location.startswith(p) for p in LOGIN_PREFIXES):
        return "L"
    return str(status)


class TestAccessMatrix(MatrixBase):
    def test_every_url_pattern_is_classified(self):
        missing = [how_to_add(p) for p in url_patterns() if rule_for(p) is None]
        assert not missing, (
            f"{len(missing)} URL pattern(s) have no row in the access table:\n" + "\n".join(missing)
        )

    def test_the_table_names_no_pattern_that_is_gone(self):
        keys = {p.key for p in url_patterns()}
        stale = [
            k
            for k in TABLE
            if ("*" not in k and k not in keys)
            or ("*" in k and not any(fnmatch.fnmatchcase(x, k) for x in keys))
        ]
        assert not stale, f"rows of tests/crm/access_table.py match no URL pattern: {stale}"

    def _check(self, column):
        problems = self.check_column(column)
        assert not problems, f"{len(problems)} unexpected response(s):\n" + "\n".join(problems)

    def test_anonymous(self):
        self._check("anon")

    def test_sales_rep_on_own_objects(self):
        self._check("rep")

    def test_sales_rep_on_another_reps_objects(self):
        self._check("rep*")

    def test_support_agent(self):
        self._check("agent")

    def test_manager(self):
        self._check("mgr")

    def test_admin(self):
        self._check("admin")
