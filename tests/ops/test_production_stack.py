"""The production stack on this machine: gunicorn with DEBUG=0 settings, a Celery worker
per queue, a PostgreSQL primary with a streaming replica, and a Redis, all started here
on ports of our own (never the shared PostgreSQL on 5432 or Redis on 6379).

Shows: a heavy job queued on the analytics queue finishes on the analytics worker while
the web keeps answering; the fast queue's task runs on the other worker; both carry the
request id of the code that sent them into their JSON log lines; the dashboard reads the
replica (and the primary right after a write); /metrics adds up web and worker figures;
/readyz is 503 while the broker is stopped and 200 when it is back.

About a minute on an idle two-core machine (collectstatic and three servers starting).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.ops.conftest import free_port

pytestmark = pytest.mark.ops

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORTS = range(5440, 5450)
WEB_PORTS = (8106, 8116)


def _as_postgres(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL's tools refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


class PgPair:
    """A primary and a streaming replica (pg_basebackup -R), in a folder under /tmp."""

    def __init__(self) -> None:
        self.dir = Path(f"/tmp/crm_ops_pg_{os.getpid()}")
        self.primary_port = free_port(PG_PORTS)
        self.replica_port = free_port(p for p in PG_PORTS if p != self.primary_port)

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/crm"

    def connect(self, port: int, dbname: str = "crm"):
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname)
        conn.autocommit = True
        return conn

    def start(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        primary, replica = self.dir / "primary", self.dir / "replica"
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        )
        settings = (
            f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
            "synchronous_commit = off\nshared_buffers = 32MB\nwal_level = replica\n"
            "max_wal_senders = 4\nhot_standby = on\n"
        )
        _as_postgres(["sh", "-c", f"cat >> {primary}/postgresql.conf"], input=settings)
        self._ctl(primary, "start")
        _as_postgres(
            [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port)]
            + ["-U", "postgres", "-D", str(replica), "-R", "-X", "stream", "--no-sync"]
        )
        _as_postgres(
            ["sh", "-c", f"cat >> {replica}/postgresql.auto.conf"],
            input=f"port = {self.replica_port}\n",
        )
        self._ctl(replica, "start")
        conn = self.connect(self.primary_port, "postgres")
        try:
            conn.cursor().execute("CREATE DATABASE crm")
        finally:
            conn.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.connect(self.replica_port).close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _ctl(self, data: Path, action: str) -> None:
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", f"{data}.log", "-w", "-t", "60"]
            + (["-m", "fast"] if action == "stop" else [])
            + [action]
        )

    def stop(self) -> None:
        for name in ("replica", "primary"):
            if (self.dir / name / "postmaster.pid").exists():
                self._ctl(self.dir / name, "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    """gunicorn and two Celery workers with production settings."""

    def __init__(self, tmp: Path, pg: PgPair, redis_url: str) -> None:
        self.tmp = tmp
        self.port = free_port(WEB_PORTS)
        self.base = f"http://127.0.0.1:{self.port}"
        self.backups = tmp / "backups"
        self.procs: dict[str, subprocess.Popen] = {}
        metrics_dir = tmp / "metrics"
        metrics_dir.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_", "CELERY_", "PROMETHEUS_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="crm.settings",
            DEBUG="0",
            SECRET_KEY="ops-test-" + uuid.uuid4().hex * 2,
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            # The dashboard is read as the demo manager without an authenticator app.
            OTP_REQUIRED_ROLES="",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=pg.url(pg.primary_port),
            DATABASE_REPLICA_URL=pg.url(pg.replica_port),
            REDIS_URL=redis_url,
            STATIC_ROOT=str(tmp / "static"),
            MEDIA_ROOT=str(tmp / "media"),
            BACKUP_DIR=str(self.backups),
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            METRICS_ALLOWED_IPS="127.0.0.1",
            LOG_FORMAT="json",
            WORKER_HEARTBEAT_INTERVAL="2",
            WORKER_HEARTBEAT_MAX_AGE="60",
            REPLICA_PIN_SECONDS="30",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY="2",
            CACHE_KEY_PREFIX="crm-ops-test",
        )
        self.env = env

    def manage(self, *args: str, timeout: int = 300) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def python(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input")
        self.manage("seed_demo", "--scale", "XS", "--reset")
        self._spawn("web", "gunicorn", "-c", "deploy/gunicorn.conf.py", "crm.wsgi:application")
        for queue, name in (("default", "fast"), ("analytics", "analytics")):
            self._spawn(
                f"worker-{name}",
                "celery",
                "-A",
                "crm",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{name}@%h",
                "--concurrency=1",
                "--loglevel=INFO",
            )
        self.wait_for("/readyz", 200, timeout=120)

    def wait_for(self, path: str, status: int, timeout: float = 60) -> requests.Response:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"{name} exited:\n{self.log(name)[-3000:]}"
            try:
                last = requests.get(self.base + path, timeout=15)
                if last.status_code == status:
                    return last
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.25)
        raise AssertionError(f"{path} never answered {status}; last: {last and last.text}")

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def json_lines(self, name: str) -> list[dict]:
        lines = []
        for line in self.log(name).splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def pg_pair():
    assert (PG_BIN / "initdb").exists(), "PostgreSQL 15 server binaries are needed"
    pair = PgPair()
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def stack(pg_pair, own_redis, tmp_path_factory):
    started = time.monotonic()
    running = Stack(tmp_path_factory.mktemp("stack"), pg_pair, own_redis.url)
    try:
        running.start()
        print(f"stack up in {time.monotonic() - started:.1f}s")
        yield running
    finally:
        running.stop()


def test_gunicorn_serves_the_production_settings(stack):
    health = requests.get(stack.base + "/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", health.headers["X-Request-ID"])
    login = requests.get(stack.base + "/accounts/login/", timeout=5)
    assert login.status_code == 200
    # WhiteNoise serves the collected, hashed and compressed files with far-future caching.
    css = re.search(
        r'href="(/static/vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]+\.css)"', login.text
    )
    assert css, login.text[:2000]
    static = requests.get(stack.base + css.group(1), headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert static.status_code == 200
    assert "immutable" in static.headers["Cache-Control"]
    assert static.headers.get("Content-Encoding") in ("gzip", "br")
    # DEBUG is off: an unknown page is the app's own 404, not Django's debug page.
    missing = requests.get(stack.base + "/no-such-page/", timeout=5)
    assert missing.status_code in (302, 404)
    assert "Traceback" not in missing.text


def _ts(line: dict) -> float:
    return datetime.fromisoformat(line["ts"]).timestamp()


def test_heavy_jobs_run_on_the_analytics_worker_while_the_web_answers(stack):
    request_id = "ops-e2e-" + uuid.uuid4().hex[:12]
    # /healthz is called all along, from another thread: (time sent, time answered, seconds).
    polls: list[tuple[float, float, float]] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            sent, started = time.time(), time.perf_counter()
            status = requests.get(stack.base + "/healthz", timeout=10).status_code
            polls.append(
                (sent, time.time(), time.perf_counter() - started if status == 200 else 99)
            )
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        # Three backups queue up on the analytics worker (one process); the retention task
        # on the default queue must not wait behind them.
        stack.python(
            "from ops.context import request_id_context\n"
            "from ops.tasks import backup_database_task, retention_task\n"
            f"with request_id_context({request_id!r}):\n"
            "    for _ in range(3):\n"
            "        backup_database_task.delay()\n"
            "    retention_task.delay()\n"
        )
        deadline = time.monotonic() + 120
        while len(succeeded(stack, "worker-analytics", "ops.tasks.backup_database_task")) < 3:
            assert time.monotonic() < deadline, stack.log("worker-analytics")[-3000:]
            time.sleep(0.1)
        while not succeeded(stack, "worker-fast", "ops.tasks.retention_task"):
            assert time.monotonic() < deadline, stack.log("worker-fast")[-3000:]
            time.sleep(0.1)
    finally:
        stop.set()
        poller.join(timeout=15)

    backups = succeeded(stack, "worker-analytics", "ops.tasks.backup_database_task")
    retention = succeeded(stack, "worker-fast", "ops.tasks.retention_task")
    # Each task ran on its own queue's worker, under the request id of the code that sent it.
    assert {line["request_id"] for line in backups + retention} == {request_id}
    assert not succeeded(stack, "worker-fast", "ops.tasks.backup_database_task")
    assert not succeeded(stack, "worker-analytics", "ops.tasks.retention_task")
    assert len(list(stack.backups.glob("crm-*.dump"))) == 3
    written = [
        line for line in stack.json_lines("worker-analytics") if line["message"] == "backup written"
    ]
    assert [line["request_id"] for line in written] == [request_id] * 3
    assert all(line["bytes"] > 10_000 for line in written)
    # The quick task did not wait for the heavy queue to drain.
    assert _ts(retention[0]) < _ts(backups[-1])
    # The web answered all along, and quickly, also while the jobs ran.
    received = [
        line
        for line in stack.json_lines("worker-analytics")
        if "backup_database_task" in line["message"] and "received" in line["message"]
    ]
    window = (_ts(received[0]), _ts(backups[-1]))
    # Calls in flight while the jobs ran (sent before the last job ended, answered after the
    # first was received): on a busy machine the jobs may take less time than one call.
    during = [
        seconds for sent, answered, seconds in polls if sent <= window[1] and answered >= window[0]
    ]
    print(
        f"jobs ran {window[1] - window[0]:.2f}s; /healthz answered {len(during)} times meanwhile, "
        f"slowest {max(during or [0]):.3f}s; {len(polls)} calls in all"
    )
    assert during, "no /healthz call answered while the jobs ran"
    assert max(seconds for _, _, seconds in polls) < 2.0


def succeeded(stack: Stack, worker: str, task: str) -> list[dict]:
    return [
        line
        for line in stack.json_lines(worker)
        if line.get("task_name") == task and "succeeded" in line["message"]
    ]


def test_metrics_add_up_the_web_and_the_workers(stack):
    requests.get(stack.base + "/healthz", timeout=5)
    deadline = time.monotonic() + 30
    while True:
        text = requests.get(stack.base + "/metrics", timeout=10).text
        if "ops.tasks.backup_database_task" in text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert 'crm_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert 'task="ops.tasks.backup_database_task"' in text
    assert (
        'crm_celery_task_duration_seconds_count{state="SUCCESS",task="ops.tasks.retention_task"}'
        in text
    )
    assert 'crm_celery_queue_length{queue="analytics"} 0.0' in text
    assert "crm_broker_up 1.0" in text
    assert re.search(
        r'crm_worker_heartbeat_age_seconds\{queues="analytics",worker="analytics@', text
    )
    assert re.search(r'crm_worker_heartbeat_age_seconds\{queues="default",worker="fast@', text)
    # The workers keep beating (every 2 s here), not only when they started a while ago.
    ages = [
        float(a) for a in re.findall(r"crm_worker_heartbeat_age_seconds\{.*\} ([\d.e+-]+)", text)
    ]
    assert len(ages) == 2 and max(ages) < 10, ages


def _dashboard_customers(session: requests.Session, base: str) -> int:
    page = session.get(base + "/analytics/", timeout=10)
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'data-testid="kpi-customers" data-value="(\d+)"', page.text)
    assert match, page.text[:2000]
    return int(match.group(1).replace(",", ""))


def test_the_dashboard_reads_the_replica_and_the_primary_after_a_write(stack, pg_pair):
    session = requests.Session()
    login_page = session.get(stack.base + "/accounts/login/", timeout=5)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    answer = session.post(
        stack.base + "/accounts/login/",
        data={"username": "manager", "password": "demo-pass-123", "csrfmiddlewaretoken": token},
        headers={"Referer": stack.base + "/accounts/login/"},
        timeout=10,
    )
    assert answer.status_code == 200 and "/accounts/login/" not in answer.url
    # The login was a write: for REPLICA_PIN_SECONDS this user reads the primary.
    assert "crm_pin_primary" in session.cookies
    for cookie in list(session.cookies):
        if cookie.name == "crm_pin_primary":
            session.cookies.clear(cookie.domain, cookie.path, cookie.name)

    replica = pg_pair.connect(pg_pair.replica_port)
    cur = replica.cursor()
    try:
        cur.execute("SELECT pg_is_in_recovery()")
        assert cur.fetchone()[0] is True  # a real standby, read-only
        before = _dashboard_customers(session, stack.base)
        # Hold the replica back, then write on the primary.
        cur.execute("SELECT pg_wal_replay_pause()")
        try:
            stack.python(
                "from customers.models import Customer\n"
                "Customer.objects.create(name='Replica Test One')\n"
                "Customer.objects.create(name='Replica Test Two')\n"
            )
            # The dashboard still shows the replica's (older) figure ...
            assert _dashboard_customers(session, stack.base) == before
            # ... unless the user has just written something: then the primary answers.
            pinned = requests.Session()
            pinned.cookies.update(session.cookies)
            pinned.cookies.set("crm_pin_primary", "1")
            assert _dashboard_customers(pinned, stack.base) == before + 2
        finally:
            cur.execute("SELECT pg_wal_replay_resume()")
    finally:
        replica.close()
    deadline = time.monotonic() + 30
    while _dashboard_customers(session, stack.base) != before + 2:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.2)


def test_readyz_is_503_while_the_broker_is_stopped_and_200_when_it_is_back(stack, own_redis):
    assert requests.get(stack.base + "/readyz", timeout=10).status_code == 200
    own_redis.stop()
    try:
        started = time.perf_counter()
        down = requests.get(stack.base + "/readyz", timeout=15)
        assert down.status_code == 503
        assert down.json()["down"] == ["broker"]
        assert down.json()["broker"] == "down"
        assert time.perf_counter() - started < 10
        assert requests.get(stack.base + "/healthz", timeout=15).status_code == 503
    finally:
        own_redis.start()
    back = stack.wait_for("/readyz", 200, timeout=60)
    assert back.json()["queues"] == {"default": "ok", "analytics": "ok"}
    # The workers reconnect by themselves and take work again.
    stack.python("from ops.tasks import retention_task\nretention_task.delay()\n")
    deadline = time.monotonic() + 60
    while (
        sum(
            1
            for line in stack.json_lines("worker-fast")
            if line.get("task_name") == "ops.tasks.retention_task"
            and "succeeded" in line["message"]
        )
        < 2
    ):
        assert time.monotonic() < deadline, stack.log("worker-fast")[-3000:]
        time.sleep(0.3)


class Nginx:
    """deploy/nginx/crm.conf as shipped, with ports, certificate and log paths made local."""

    def __init__(self, tmp: Path, upstream_port: int) -> None:
        self.tmp = tmp
        self.https_port = free_port([p for p in WEB_PORTS if p != upstream_port])
        self.http_port = free_port(range(5449, 5439, -1))
        cert, key = tmp / "cert.pem", tmp / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-subj", "/CN=crm.example.com", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        site = (ROOT / "deploy" / "nginx" / "crm.conf").read_text()
        for old, new in (
            ("server 127.0.0.1:8000", f"server 127.0.0.1:{upstream_port}"),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen [::]:80;", ""),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            ("/etc/letsencrypt/live/crm.example.com/fullchain.pem", str(cert)),
            ("/etc/letsencrypt/live/crm.example.com/privkey.pem", str(key)),
            ("/var/log/nginx/", f"{tmp}/"),
            ("/var/www/letsencrypt", str(tmp)),
        ):
            assert old in site, old
            site = site.replace(old, new)
        (tmp / "site.conf").write_text(site)
        (tmp / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
            f"http {{\n  include /etc/nginx/mime.types;\n  client_body_temp_path {tmp}/body;\n"
            f"  proxy_temp_path {tmp}/proxy;\n  include {tmp}/site.conf;\n}}\n"
        )
        self.base = f"https://127.0.0.1:{self.https_port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = ["nginx", "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf")]
        subprocess.run([*args, "-t"], check=True, capture_output=True)
        self.proc = subprocess.Popen([*args, "-g", "daemon off;"], start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.base + "/healthz", verify=False, timeout=10)
                return
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (self.tmp / "error.log").read_text()
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def nginx(stack, tmp_path_factory):
    assert shutil.which("nginx"), "nginx is needed (Debian package nginx-light)"
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), stack.port)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_nginx_site_terminates_tls_in_front_of_gunicorn(nginx):
    plain = requests.get(
        f"http://127.0.0.1:{nginx.http_port}/customers/", allow_redirects=False, timeout=10
    )
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")

    answer = requests.get(nginx.base + "/healthz", verify=False, timeout=10)
    assert answer.status_code == 200
    # nginx made the request id, the app kept it; a caller's own id is passed through.
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])
    mine = requests.get(
        nginx.base + "/healthz", headers={"X-Request-ID": "lb-1234"}, verify=False, timeout=10
    )
    assert mine.headers["X-Request-ID"] == "lb-1234"
    # X-Forwarded-Proto reached Django: it knows the request was HTTPS and sends HSTS.
    login = requests.get(nginx.base + "/accounts/login/", verify=False, timeout=10)
    assert login.status_code == 200
    assert "max-age=" in login.headers["Strict-Transport-Security"]

    assert (
        requests.get(nginx.base + "/media/imports/a.csv", verify=False, timeout=10).status_code
        == 404
    )
    assert requests.get(nginx.base + "/metrics", verify=False, timeout=10).status_code == 200

    # Uploads: an import-sized body passes to the app, one over 50 MB stops at nginx.
    big = requests.post(
        nginx.base + "/accounts/login/", data=b"x" * (5 * 1024 * 1024), verify=False, timeout=60
    )
    assert big.status_code != 413
    too_big = requests.post(
        nginx.base + "/accounts/login/", data=b"x" * (51 * 1024 * 1024), verify=False, timeout=60
    )
    assert too_big.status_code == 413
