"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never Playwright's
own download) against the app served by pytest-django's live_server on 127.0.0.1.

Every page a journey opens is checked for console errors and failed requests; screenshots of
the key pages are saved under test-artifacts/e2e/ for people to look at.
"""

import os
import re
from pathlib import Path

import pytest

# live_server runs Django in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

# (name, viewport, language): every journey runs at each.
VARIANTS = [
    pytest.param(("desktop", {"width": 1366, "height": 900}, "en"), id="desktop-en"),
    pytest.param(("phone", {"width": 390, "height": 844}, "en"), id="phone-en"),
    pytest.param(("desktop", {"width": 1366, "height": 900}, "zh-hans"), id="desktop-zh"),
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


class Session:
    """A browser context for one person: a page, the language, and what went wrong."""

    def __init__(self, context, base_url, name, lang, test_name):
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.lang = lang
        self.is_phone = name == "phone"
        self.errors: list[str] = []
        self.expected_statuses: set[tuple[str, int]] = set()
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)

    def _on_console(self, msg):
        # "Failed to load resource: ... status of N" repeats a response that _on_response
        # already judges (against the statuses a journey expects); other errors count here.
        if msg.type == "error" and "the server responded with a status of" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def _on_request_failed(self, request):
        # A request the browser itself abandons because the page moved on (ERR_ABORTED, e.g.
        # the favicon of a page left at once) is not a failure of the app.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _on_response(self, response):
        path = response.url.removeprefix(self.base_url)
        if response.status >= 400 and (path, response.status) not in self.expected_statuses:
            self.errors.append(f"{response.status} {path}")

    def expect_status(self, path: str, status: int) -> None:
        """A response the journey provokes on purpose (e.g. a 403 for a forbidden page)."""
        self.expected_statuses.add((path, status))

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)

    def open_menu(self) -> None:
        """On a phone the navigation hides behind the toggler."""
        toggler = self.page.locator(".navbar-toggler")
        if (
            self.is_phone
            and toggler.is_visible()
            and not self.page.locator("#main-nav").is_visible()
        ):
            toggler.click()
            self.page.locator("#main-nav.show").wait_for()

    def log_in(self, username: str, password: str) -> None:
        self.goto("/accounts/login/")
        if self.lang != "en":
            self.page.locator(f"button[name=language][value='{self.lang}']").first.click()
            self.page.wait_for_load_state()
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.locator("main button[type=submit]").click()
        self.page.wait_for_load_state()

    def log_out(self) -> None:
        self.page.locator(
            "[data-testid=user-menu]"
        ).click() if not self.is_phone else self._phone_user_menu()
        self.page.locator("form[action$='/accounts/logout/'] button").click()
        self.page.wait_for_load_state()

    def _phone_user_menu(self):
        self.open_menu()
        self.page.locator("[data-testid=user-menu]").click()

    def nav_labels(self) -> list[str]:
        self.open_menu()
        return [
            t.strip()
            for t in self.page.locator("[data-testid=main-nav] .nav-link").all_inner_texts()
        ]


@pytest.fixture
def open_session(browser, live_server, request):
    """open_session(variant) -> Session; fails the test on console errors or failed requests."""
    sessions = []

    def make(variant):
        name, viewport, lang = variant
        context = browser.new_context(
            viewport=viewport, locale="zh-CN" if lang != "en" else "en-US"
        )
        session = Session(context, live_server.url, name, lang, request.node.name)
        sessions.append(session)
        return session

    yield make
    problems = [e for s in sessions for e in s.errors]
    for s in sessions:
        s.context.close()
    assert problems == [], "browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def browser_page(browser):
    """A desktop page in the suite's shared Chromium; dialogs (confirmations) are accepted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()
    # While Playwright's loop runs, the test's queries use a connection of their own
    # (asgiref locals follow the loop's context); close it, or the test DB cannot be dropped.
    from django.db import connections

    connections.close_all()
