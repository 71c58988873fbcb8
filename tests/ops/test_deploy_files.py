"""The deployment files hang together. No Docker engine, nginx or systemd runs on the
build machines, so these read the files: compose.yaml as YAML, the systemd units as INI,
and they check that every file names the same commands, queues and settings as the code."""

import configparser
import re
import runpy
from pathlib import Path

import yaml

from crm.celery import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
QUEUES = {q.name for q in app.conf.task_queues}


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / "systemd" / name).read_text().replace("\\\n", " "))
    return parser


def test_the_queues_are_default_and_analytics_with_heavy_jobs_routed():
    assert {"default", "analytics"} == QUEUES
    router = app.amqp.router
    assert router.route({}, "analytics.tasks.churn_task")["queue"].name == "analytics"
    assert router.route({}, "ops.tasks.backup_database_task")["queue"].name == "analytics"
    assert router.route({}, "ops.tasks.retention_task")["queue"].name == "default"
    assert router.route({}, "crm.tasks.clear_expired_sessions_task")["queue"].name == "default"


def test_compose_runs_web_a_worker_per_queue_beat_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker-fast", "worker-analytics", "beat", "postgres", "redis"} <= set(services)
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    consumed = {}
    for name in ("worker-fast", "worker-analytics"):
        command = services[name]["command"]
        consumed[name] = command[command.index("-Q") + 1]
    assert consumed == {"worker-fast": "default", "worker-analytics": "analytics"}
    assert set(consumed.values()) == QUEUES
    assert services["beat"]["command"][:4] == ["celery", "-A", "crm", "beat"]
    env = services["web"]["environment"]
    assert env["DEBUG"] == "0" and env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["DATABASE_URL"].startswith("postgres://crm:")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    # pg_dump in the image is Debian bookworm's 15: the server must not be newer.
    assert services["postgres"]["image"] == "postgres:15"


def test_the_dockerfile_builds_assets_collects_static_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages[0].startswith("node:") and stages[-1] == "python:3.11-slim"
    assert "npm ci" in dockerfile
    assert "collectstatic --no-input" in dockerfile
    assert re.search(r"^USER crm$", dockerfile, re.M)
    assert "postgresql-client" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", ".env", ".git"} <= set(ignored)


def test_the_systemd_units_start_gunicorn_each_worker_queue_and_beat():
    web = _unit("crm-web.service")["Service"]
    assert "gunicorn -c /opt/crm/deploy/gunicorn.conf.py crm.wsgi:application" in web["ExecStart"]
    assert web["User"] == "crm" and web["EnvironmentFile"] == "/etc/crm/crm.env"
    queues = {}
    for name in ("crm-worker-fast.service", "crm-worker-analytics.service"):
        start = _unit(name)["Service"]["ExecStart"].split()
        queues[name] = start[start.index("-Q") + 1]
        assert _unit(name)["Unit"]["PartOf"] == "crm.target"
    assert set(queues.values()) == QUEUES
    assert " beat " in _unit("crm-beat.service")["Service"]["ExecStart"]
    wants = _unit("crm.target")["Unit"]["Wants"].split()
    assert set(wants) == {
        "crm-web.service",
        "crm-worker-fast.service",
        "crm-worker-analytics.service",
        "crm-beat.service",
    }


def test_nginx_terminates_tls_allows_import_uploads_and_passes_the_request_id():
    conf = (DEPLOY / "nginx" / "crm.conf").read_text()
    assert "listen 443 ssl" in conf and "ssl_certificate " in conf
    assert "return 301 https://$host$request_uri;" in conf
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) >= 20
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Request-ID $crm_request_id;" in conf
    metrics = re.search(r"location = /metrics \{(.*?)\}", conf, re.S).group(1)
    assert "deny all;" in metrics
    assert conf.count("{") == conf.count("}")


def test_the_gunicorn_config_loads_and_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["bind"] == "0.0.0.0:9000" and conf["workers"] == 3
    assert callable(conf["child_exit"])


def test_every_documented_file_exists():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for path in re.findall(r"`((?:deploy/|compose\.yaml|Dockerfile)[^`\s]*)`", guide):
        assert (ROOT / path).exists(), path
    for name in (
        "gunicorn.conf.py",
        "nginx/crm.conf",
        "crm-web.service",
        "crm-worker-fast.service",
        "crm-worker-analytics.service",
        "crm-beat.service",
        "Dockerfile",
        "compose.yaml",
    ):
        assert name in guide, name
