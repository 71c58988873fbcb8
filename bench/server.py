"""The app under test: collectstatic, gunicorn with production settings on 127.0.0.1, and
session cookies for the demo users obtained through the real login form."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from . import proc
from .config import LOG_DIR, ROOT, Config
from .database import manage


def collectstatic(cfg: Config) -> None:
    manage(cfg, "collectstatic", "--no-input", "--verbosity", "0", timeout=600)


def start_gunicorn(cfg: Config):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [
        cfg.python,
        "-m",
        "gunicorn",
        "crm.wsgi:application",
        "--bind",
        f"127.0.0.1:{cfg.port}",
        "--workers",
        str(cfg.workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
        "--error-logfile",
        "-",
    ]
    log = LOG_DIR / "gunicorn.log"
    log.unlink(missing_ok=True)  # this run's log only
    server = proc.start(cmd, env=cfg.app_env(), cwd=ROOT, log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}); see {LOG_DIR}/gunicorn.log")
        try:
            with urllib.request.urlopen(f"{cfg.base_url}/accounts/login/", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    proc.stop(server)
    raise RuntimeError("gunicorn did not answer within 60 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def login(cfg: Config, username: str, password: str) -> str:
    """Log in through the login form as a browser would; returns the `sessionid` value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url = f"{cfg.base_url}/accounts/login/"
    with opener.open(url, timeout=10) as resp:
        page = resp.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        raise RuntimeError("login form has no CSRF token")
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    try:
        opener.open(urllib.request.Request(url, data=body, method="POST"), timeout=30)
    except urllib.error.HTTPError as exc:  # the 302 after a good login lands here
        if exc.code not in (301, 302, 303):
            raise RuntimeError(f"login as {username!r} answered {exc.code}") from exc
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if not session:
        raise RuntimeError(f"login as {username!r} failed (wrong password? run seed_demo)")
    return session
