"""Who may open which URL: DESIGN.md's role table, pattern by pattern.

tests/crm/test_access_matrix.py walks every URL pattern of the project and asks each one
as every column below; the answer must be the code written here. A pattern missing from
TABLE fails the test with the line to add.

Columns (who asks):
    anon   not logged in
    rep    a sales rep, on their OWN object (their customer, deal, task, saved view, token...)
    rep*   a sales rep, on ANOTHER rep's object of the same kind ("-" for URLs without one)
    agent  a support agent  \
    mgr    a manager         > on the first rep's object
    admin  an admin         /

Codes: 200, 400 (a form that refuses the empty body), 401 (API, no credentials), 403, 404,
405, 301/302 (a redirect elsewhere than a login page) and L (a redirect to a login page:
/accounts/login/ or, for the admin site, /admin/login/). A is for the admin role on the
admin site's per-model pages, where the ModelAdmin decides (200, a 302 for a model with no
rows, 403 for a read-only log, 405): the role table's rule there is that everyone else gets L.
`get` is checked for every rule; `post` (an empty body; `{}` as JSON for the API) only
where written. A request must never write a row (sessions aside) unless the rule says
`writes="why"` (actions that need no body, e.g. "mark read"), and then only in the
columns whose code is 200 or 302 (and, with `writes_on="POST"`, only for that method).

Kinds (what the URL is; documentation for the reader):
    PUBLIC  answers everyone, logged in or not
    PAGE    a page or list that is not about one object
    OBJECT  a page about one object (the `obj` fixture fills in the URL)
    FORM    a page with a form: GET shows it, POST sends it
    ACTION  POST only (GET is 405)
    EXPORT  a CSV download
    ADMIN   the Django admin site: admins only
    API     /api/: token or session; JSON answers (401 for anonymous)

Adding a URL: one line in TABLE, keyed by the URL name with its namespace
("customers:customer_update") or, for a pattern without a name, by its route; "*"
matches any text ("admin:*_change"). For example
    "customers:customer_archive": rule(ACTION, "customer", get="L 405 405 405 405 405",
                                       post="L 302 403 403 302 302"),
Objects available for `obj` (their pk fills <pk>, their external id or SKU fills <key>):
customer, interaction, tag, user, need, deal, order, task, ticket, savedview, token,
feedback, ticketcomment, score, recommendation, email (per side), importbatch, jobrun, product, article,
cannedreply, segment, associationrule, forecast, satisfaction, emailtemplate, campaign (shared;
made in test_access_matrix.py's _make_objects), and the tokens of a survey and an unsubscribe link; other URL parts come from FIXED_KWARGS (add a key there for a new one).
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ("anon", "rep", "rep*", "agent", "mgr", "admin")

PUBLIC, PAGE, OBJECT, FORM, ACTION, EXPORT, ADMIN, API = (
    "public",
    "page",
    "object",
    "form",
    "action",
    "export",
    "admin",
    "api",
)


@dataclass(frozen=True)
class Rule:
    kind: str
    obj: str | None
    get: tuple[str, ...]
    post: tuple[str, ...] | None
    writes: str = ""
    skip: str = ""
    writes_on: tuple[str, ...] = ("GET", "POST")

    def expectations(self, column: str):
        i = COLUMNS.index(column)
        for method, codes in (("GET", self.get), ("POST", self.post)):
            if codes is not None and codes[i] != "-":
                yield method, codes[i]

    def writes_ok(self, column: str, method: str) -> bool:
        codes = self.get if method == "GET" else self.post
        return (
            bool(self.writes)
            and method in self.writes_on
            and codes[COLUMNS.index(column)] in ("200", "302")
        )


def _codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    codes = tuple(text.split())
    assert len(codes) == len(COLUMNS), f"{text!r}: one code per column {COLUMNS}"
    return codes


def rule(kind, obj=None, *, get, post=None, writes="", writes_on="GET POST", skip="") -> Rule:
    return Rule(kind, obj, _codes(get), _codes(post), writes, skip, tuple(writes_on.split()))


# Values for URL parts that are not an object's pk.
FIXED_KWARGS = {
    "report": {"key": "revenue_by_month"},
    "quality": {"key": "no-contact"},
    "history": {"label": "customers.customer", "pk": "<customer>"},
    "survey": {"token": "<survey_token>"},
    "reset": {"uidb64": "MQ", "token": "set-password"},
    "anything": {"url": "no/such/page/", "path": "no/such/file.txt"},
    "app": {"app_label": "sales"},
    "panel": {"key": "revenue"},
    "signed": {"token": "forged-token"},  # a bad signature: 400/404, never a 500
    "unsubscribe": {"token": "<unsubscribe_token>"},  # the real link of the campaign recipient
}

# fmt: off
TABLE: dict[str, Rule] = {
    "home": rule(PAGE, get="L 302 - 302 302 302"),
    "healthz": rule(PUBLIC, get="200 200 - 200 200 200"),
    "readyz": rule(PUBLIC, get="200 200 - 200 200 200"),
    "metrics": rule(PAGE, get="404 404 - 404 404 200"),
    "bench_constant": rule(PUBLIC, get="L 404 - 404 404 404"),
    "favicon.ico": rule(PUBLIC, get="301 301 - 301 301 301"),
    "set_language": rule(ACTION, get="302 302 - 302 302 302", post="302 302 - 302 302 302"),
    # 404 for every model until one is audited (crm.history.register_audited); the test
    # expects that while customers are not audited.
    "object_history": rule(OBJECT, "history", get="L 200 200 200 200 200"),
    "two_factor": rule(FORM, get="L 200 - 200 200 200", post="L 200 - 200 200 200", writes="enrolling: the page keeps an unconfirmed TOTP device for the user"),
    "api_token_list": rule(FORM, get="L 200 - 200 200 200", post="L 200 - 200 200 200"),
    "api_token_revoke": rule(ACTION, "token", get="L 405 405 405 405 405", post="L 302 404 404 404 404", writes="revoking needs no body"),
    "login": rule(FORM, get="200 200 - 200 200 200", post="200 200 - 200 200 200"),
    "logout": rule(ACTION, get="L 405 - 405 405 405", post="L L - L L L"),
    "password_change": rule(FORM, get="L 200 - 200 200 200", post="L 200 - 200 200 200"),
    "password_change_done": rule(PAGE, get="L 200 - 200 200 200"),
    "password_reset": rule(FORM, get="200 200 - 200 200 200", post="200 200 - 200 200 200"),
    "password_reset_done": rule(PUBLIC, get="200 200 - 200 200 200"),
    "password_reset_confirm": rule(FORM, "reset", get="200 200 200 200 200 200", post="200 200 200 200 200 200"),
    "password_reset_complete": rule(PUBLIC, get="200 200 - 200 200 200"),
    "customers:customer_list": rule(PAGE, get="L 200 - 200 200 200"),
    "customers:customer_create": rule(FORM, get="L 200 - 403 200 200", post="L 200 - 403 200 200"),
    "customers:customer_bulk": rule(ACTION, get="L 405 - 405 405 405", post="L 302 - 302 302 302"),
    "customers:customer_duplicates": rule(PAGE, get="L 403 - 403 200 200"),
    "customers:customer_merge": rule(FORM, get="L 403 - 403 404 404", post="L 403 - 403 302 302"),
    "customers:organisation_options": rule(PAGE, get="L 200 - 200 200 200"),
    "customers:savedview_create": rule(ACTION, get="L 405 - 405 405 405", post="L 302 - 302 302 302"),
    "customers:savedview_delete": rule(ACTION, "savedview", get="L 405 405 405 405 405", post="L 302 404 404 404 404", writes="deleting needs no body"),
    "customers:customer_detail": rule(OBJECT, "customer", get="L 200 200 200 200 200"),
    "customers:customer_update": rule(FORM, "customer", get="L 200 403 200 200 200", post="L 200 403 302 200 200", writes="an agent's form has contact fields only, none required: empty clears them"),
    "customers:customer_delete": rule(FORM, "customer", get="L 403 403 403 200 200", post="L 403 403 403 302 302"),
    "customers:customer_stage": rule(ACTION, "customer", get="L 405 405 405 405 405", post="L 302 403 403 302 302"),
    "customers:customer_timeline": rule(OBJECT, "customer", get="L 200 200 200 200 200"),
    "customers:interaction_create": rule(ACTION, "customer", get="L 405 405 405 405 405", post="L 200 200 200 200 200"),
    "customers:need_create": rule(ACTION, "customer", get="L 405 405 405 405 405", post="L 302 302 302 302 302"),
    "customers:need_update": rule(ACTION, "need", get="L 405 405 405 405 405", post="L 302 403 403 302 302"),
    "customers:customer_import": rule(FORM, get="L 403 - 403 200 200", post="L 403 - 403 200 200"),
    "customers:importbatch_list": rule(PAGE, get="L 403 - 403 200 200"),
    "customers:importbatch_detail": rule(OBJECT, "importbatch", get="L 403 403 403 200 200"),
    "customers:importbatch_progress": rule(OBJECT, "importbatch", get="L 403 403 403 200 200"),
    "customers:importbatch_commit": rule(ACTION, "importbatch", get="L 403 403 403 405 405", post="L 403 403 403 302 302"),
    "customers:importbatch_cancel": rule(ACTION, "importbatch", get="L 403 403 403 405 405", post="L 403 403 403 302 302", writes="cancelling needs no body"),
    "customers:importbatch_undo": rule(ACTION, "importbatch", get="L 403 403 403 405 405", post="L 403 403 403 302 302"),
    "customers:importbatch_rejects": rule(EXPORT, "importbatch", get="L 403 403 403 404 404"),
    # Exports: every role that may see the rows, its own rows (DESIGN.md: the same rules in
    # pages and exports); reps and agents get an age band instead of income and birth date.
    "customers:customer_export": rule(EXPORT, get="L 200 - 200 200 200"),
    "customers:customer_personal_data": rule(EXPORT, "customer", get="L 403 403 403 200 200"),
    "customers:customer_erase": rule(FORM, "customer", get="L 403 403 403 403 200", post="L 403 403 403 403 400"),
    "customers:data_quality": rule(PAGE, get="L 403 - 403 200 200"),
    "customers:data_quality_check": rule(PAGE, "quality", get="L 403 - 403 200 200"),
    "sales:index": rule(PAGE, get="L 200 - 200 200 200"),
    "sales:deal_list": rule(PAGE, get="L 200 - 403 200 200"),
    "sales:deal_board": rule(PAGE, get="L 200 - 403 200 200"),
    "sales:deal_create": rule(FORM, get="L 302 - 403 302 302", post="L 302 - 403 302 302"),
    "sales:deal_detail": rule(OBJECT, "deal", get="L 200 404 403 200 200"),
    "sales:deal_update": rule(FORM, "deal", get="L 200 404 403 200 200", post="L 400 404 403 400 400"),
    "sales:deal_move": rule(ACTION, "deal", get="L 405 405 403 405 405", post="L 400 404 403 400 400"),
    "sales:order_list": rule(PAGE, get="L 200 - 200 200 200"),
    "sales:order_create": rule(FORM, get="L 404 - 403 404 404", post="L 404 - 403 404 404"),
    "sales:order_detail": rule(OBJECT, "order", get="L 200 200 200 200 200"),
    "sales:product_list": rule(PAGE, get="L 200 - 200 200 200"),
    "sales:order_status": rule(ACTION, "order", get="L 403 403 403 405 405", post="L 403 403 403 302 302"),
    "sales:task_list": rule(PAGE, get="L 200 - 403 200 200"),
    "sales:task_create": rule(FORM, get="L 404 - 403 404 404", post="L 404 - 403 404 404"),
    "sales:task_done": rule(ACTION, "task", get="L 405 405 403 405 405", post="L 302 404 403 302 302", writes="ticking a task needs no body"),
    "sales:notification_read": rule(ACTION, get="L 405 - 405 405 405", post="L 302 - 302 302 302", writes="marking read needs no body"),
    "sales:report_index": rule(PAGE, get="L 200 - 403 200 200"),
    "sales:report_csv": rule(EXPORT, "report", get="L 403 403 403 200 200"),
    "sales:order_import": rule(FORM, get="L 403 - 403 200 200", post="L 403 - 403 200 200"),
    "sales:product_import": rule(FORM, get="L 403 - 403 200 200", post="L 403 - 403 200 200"),
    "sales:order_export": rule(EXPORT, get="L 200 - 200 200 200"),
    "sales:deal_export": rule(EXPORT, get="L 200 - 403 200 200"),
    "service:index": rule(PAGE, get="L 200 - 200 200 200"),
    "service:ticket_list": rule(PAGE, get="L 200 - 200 200 200"),
    "service:ticket_create": rule(FORM, get="L 200 - 200 200 200", post="L 200 - 200 200 200"),
    "service:ticket_bulk": rule(ACTION, get="L 405 - 405 405 405", post="L 403 - 302 302 302"),
    "service:ticket_detail": rule(OBJECT, "ticket", get="L 200 404 200 200 200"),
    "service:ticket_update": rule(FORM, "ticket", get="L 403 404 200 200 200", post="L 403 404 200 200 200"),
    "service:ticket_reply": rule(ACTION, "ticket", get="L 405 405 405 405 405", post="L 403 404 400 400 400"),
    "service:ticket_resolve": rule(ACTION, "ticket", get="L 405 405 405 405 405", post="L 403 404 400 400 400"),
    "service:ticket_assign": rule(ACTION, "ticket", get="L 405 405 405 405 405", post="L 403 404 302 302 302", writes="no assignee means unassign"),
    "service:ticket_status": rule(ACTION, "ticket", get="L 405 405 405 405 405", post="L 403 404 400 400 400"),
    "service:ticket_merge": rule(ACTION, "ticket", get="L 405 405 405 405 405", post="L 403 404 400 400 400"),
    "service:survey": rule(FORM, "survey", get="200 200 200 200 200 200", post="400 400 400 400 400 400"),
    "service:satisfaction": rule(PAGE, get="L 403 - 200 200 200"),
    "service:article_list": rule(PAGE, get="L 200 - 200 200 200"),
    "service:article_create": rule(FORM, get="L 403 - 200 200 200", post="L 403 - 200 200 200"),
    "service:article_detail": rule(OBJECT, "article", get="L 200 200 200 200 200"),
    "service:article_update": rule(FORM, "article", get="L 403 403 200 200 200", post="L 403 403 200 200 200"),
    "service:cannedreply_list": rule(PAGE, get="L 403 - 200 200 200"),
    "service:cannedreply_create": rule(FORM, get="L 403 - 200 200 200", post="L 403 - 200 200 200"),
    "service:cannedreply_update": rule(FORM, "cannedreply", get="L 404 404 200 200 200", post="L 404 404 200 200 200"),
    "service:cannedreply_delete": rule(FORM, "cannedreply", get="L 404 404 200 200 200", post="L 404 404 302 302 302", writes="deleting needs no body"),
    "service:ticket_export": rule(EXPORT, get="L 200 - 200 200 200"),
    "analytics:index": rule(PAGE, get="L 403 - 403 200 200"),
    "analytics:dashboard_panel": rule(PAGE, "panel", get="L 403 403 403 200 200"),
    "analytics:dashboard_csv": rule(EXPORT, "panel", get="L 403 403 403 200 200"),
    "analytics:my_day": rule(PAGE, get="L 200 - 200 200 200"),
    "analytics:jobrun_list": rule(PAGE, get="L 403 - 403 200 200"),
    "analytics:jobrun_start": rule(ACTION, get="L 403 - 403 405 405", post="L 403 - 403 400 400"),
    "analytics:jobrun_progress": rule(OBJECT, "jobrun", get="L 403 403 403 200 200"),
    "marketing:campaign_list": rule(PAGE, get="L 403 - 403 200 200"),
    "marketing:campaign_create": rule(FORM, get="L 403 - 403 200 200", post="L 403 - 403 200 200"),
    "marketing:campaign_detail": rule(OBJECT, "campaign", get="L 403 403 403 200 200"),
    "marketing:campaign_update": rule(FORM, "campaign", get="L 403 403 403 200 200", post="L 403 403 403 200 200"),
    "marketing:campaign_send": rule(ACTION, "campaign", get="L 405 405 405 405 405", post="L 403 403 403 302 302", writes="starting a draft needs no body"),
    "marketing:campaign_schedule": rule(ACTION, "campaign", get="L 405 405 405 405 405", post="L 403 403 403 400 400"),
    "marketing:campaign_delete": rule(ACTION, "campaign", get="L 405 405 405 405 405", post="L 403 403 403 302 302", writes="deleting a draft needs no body"),
    "marketing:campaign_progress": rule(OBJECT, "campaign", get="L 403 403 403 200 200"),
    "marketing:campaign_results": rule(OBJECT, "campaign", get="L 403 403 403 200 200"),
    "marketing:template_list": rule(PAGE, get="L 403 - 403 200 200"),
    "marketing:template_create": rule(FORM, get="L 403 - 403 200 200", post="L 403 - 403 200 200"),
    "marketing:template_update": rule(FORM, "emailtemplate", get="L 403 403 403 200 200", post="L 403 403 403 200 200"),
    # The fixture campaign uses the template: deleting it is refused with a message.
    "marketing:template_delete": rule(FORM, "emailtemplate", get="L 403 403 403 200 200", post="L 403 403 403 302 302"),
    # Writing to a customer: a rep only to their own (another rep's customer is a 404).
    "marketing:email_compose": rule(FORM, "customer", get="L 200 404 200 200 200", post="L 200 404 200 200 200"),
    # Reading an email is like reading the interaction log: every customer one can see.
    "marketing:email_detail": rule(OBJECT, "email", get="L 200 200 200 200 200"),
    # A real link of a consenting recipient: GET only asks (mail scanners fetch links) and
    # must write nothing; any POST is the RFC 8058 one-click (forged tokens: tests/marketing).
    "marketing:unsubscribe": rule(PUBLIC, "unsubscribe", get="200 200 200 200 200 200", post="200 200 200 200 200 200", writes="the one-click unsubscribe needs no body", writes_on="POST"),
    "marketing:track_open": rule(PUBLIC, "signed", get="404 404 404 404 404 404"),
    "marketing:track_click": rule(PUBLIC, "signed", get="400 400 400 400 400 400"),
    "admin:index": rule(ADMIN, get="L L - L L 200"),
    "admin:login": rule(ADMIN, get="200 200 - 200 200 302", post="200 200 - 200 200 200"),
    "admin:logout": rule(ADMIN, get="L 302 - 302 302 405", post="L 302 - 302 302 L"),
    "admin:password_change": rule(ADMIN, get="L L - L L 200", post="L L - L L 200"),
    "admin:password_change_done": rule(ADMIN, get="L L - L L 200"),
    "admin:autocomplete": rule(ADMIN, get="L L - L L 403"),
    "admin:jsi18n": rule(ADMIN, get="L L - L L 200"),
    "admin:view_on_site": rule(ADMIN, get="L L L L L 302"),
    "admin:app_list": rule(ADMIN, "app", get="L L L L L 200"),
    "admin:*_changelist": rule(ADMIN, get="L L - L L 200"),
    "admin:*_add": rule(ADMIN, get="L L - L L A", post="L L - L L A"),
    "admin:*_change": rule(ADMIN, get="L L L L L 200", post="L L L L L A"),
    "admin:*_delete": rule(ADMIN, get="L L L L L -"),
    "admin:*_history": rule(ADMIN, get="L L L L L -"),
    "admin:otp_totp_totpdevice_config": rule(ADMIN, get="L L L L L 200"),
    "admin:otp_totp_totpdevice_qrcode": rule(ADMIN, get="L L L L L 200"),
    "admin:auth_user_password_change": rule(ADMIN, get="L L L L L 200", post="L L L L L 200"),
    "admin/*/<path:object_id>/": rule(ADMIN, get="L L L L L 302"),
    "admin/(?P<url>.*)$": rule(ADMIN, "anything", get="L L L L L 404"),
    "api-root": rule(API, get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "customer-list": rule(API, get="401 200 200 200 200 200", post="401 400 400 403 400 400"),
    "customer-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 400 400 403 400 400"),
    "customer-upsert": rule(API, "customer", get="401 405 405 405 405 405", post="401 405 405 405 405 405"),
    "customer-detail": rule(API, "customer", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "interaction-list": rule(API, get="401 200 200 200 200 200", post="401 400 400 400 400 400"),
    "interaction-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 400 400 400 400 400"),
    "interaction-detail": rule(API, "interaction", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "need-list": rule(API, get="401 200 200 200 200 200", post="401 400 400 400 400 400"),
    "need-detail": rule(API, "need", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "order-list": rule(API, get="401 200 200 200 200 200", post="401 400 400 403 400 400"),
    "order-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 400 400 403 400 400"),
    "order-upsert": rule(API, "order", get="401 405 405 405 405 405", post="401 405 405 405 405 405"),
    "order-detail": rule(API, "order", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "product-list": rule(API, get="401 200 200 200 200 200", post="401 403 403 403 400 400"),
    "product-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 403 403 403 400 400"),
    "product-upsert": rule(API, "product", get="401 405 405 405 405 405", post="401 405 405 405 405 405"),
    "product-detail": rule(API, "product", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "tag-list": rule(API, get="401 200 200 200 200 200", post="401 403 403 403 400 400"),
    "tag-detail": rule(API, "tag", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "ticket-list": rule(API, get="401 200 200 200 200 200", post="401 400 400 400 400 400"),
    "ticket-detail": rule(API, "ticket", get="401 200 404 200 200 200", post="401 405 405 405 405 405"),
    "user-list": rule(API, get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    # Deals and tasks: reps their own (another's is a 404), agents none (403), as the pages.
    "deal-list": rule(API, get="401 200 200 403 200 200", post="401 400 400 403 400 400"),
    "deal-detail": rule(API, "deal", get="401 200 404 403 200 200", post="401 405 405 405 405 405"),
    "deal-move": rule(API, "deal", get="401 405 405 405 405 405", post="401 400 404 403 400 400"),
    "task-list": rule(API, get="401 200 200 403 200 200", post="401 400 400 403 400 400"),
    "task-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 400 400 403 400 400"),
    "task-detail": rule(API, "task", get="401 200 404 403 200 200", post="401 405 405 405 405 405"),
    "ticketcomment-list": rule(API, get="401 200 200 200 200 200", post="401 403 403 400 400 400"),
    "ticketcomment-detail": rule(API, "ticketcomment", get="401 200 404 200 200 200", post="401 405 405 405 405 405"),
    "feedback-list": rule(API, get="401 200 200 200 200 200", post="401 403 403 400 400 400"),
    "feedback-bulk-create": rule(API, get="401 405 405 405 405 405", post="401 403 403 400 400 400"),
    "feedback-detail": rule(API, "feedback", get="401 200 404 200 200 200", post="401 405 405 405 405 405"),
    # Analytics results: reps their customers' scores and recommendations, agents the
    # service figures (satisfaction), managers and admins everything.
    "customerscore-list": rule(API, get="401 200 200 403 200 200", post="401 405 405 403 405 405"),
    "customerscore-detail": rule(API, "score", get="401 200 404 403 200 200", post="401 405 405 403 405 405"),
    "recommendation-list": rule(API, get="401 200 200 403 200 200", post="401 405 405 403 405 405"),
    "recommendation-detail": rule(API, "recommendation", get="401 200 404 403 200 200", post="401 405 405 403 405 405"),
    "satisfaction-list": rule(API, get="401 403 403 200 200 200", post="401 403 403 405 405 405"),
    "satisfaction-detail": rule(API, "satisfaction", get="401 403 403 200 200 200", post="401 403 403 405 405 405"),
    "segment-list": rule(API, get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "segment-detail": rule(API, "segment", get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "associationrule-list": rule(API, get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "associationrule-detail": rule(API, "associationrule", get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "forecast-list": rule(API, get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "forecast-detail": rule(API, "forecast", get="401 403 403 403 200 200", post="401 403 403 403 405 405"),
    "user-detail": rule(API, "user", get="401 200 200 200 200 200", post="401 405 405 405 405 405"),
    "api_schema": rule(PUBLIC, get="200 200 - 200 200 200"),
    "api_docs": rule(PUBLIC, get="200 200 - 200 200 200"),
    "api_redoc": rule(PUBLIC, get="200 200 - 200 200 200"),
    "api/^.*$": rule(API, "anything", get="404 404 - 404 404 404", post="404 404 - 404 404 404"),
}
# fmt: on
