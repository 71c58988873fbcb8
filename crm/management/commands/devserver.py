"""Run the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the app at 127.0.0.1:8000 with a Celery worker and beat beside it."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        (settings.VAR_DIR / "broker" / "processed").mkdir(parents=True, exist_ok=True)
        python = sys.executable
        embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # On SQLite one worker process avoids "database is locked" between writers.
        concurrency = ["--concurrency=1"] if embedded else []
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "crm",
                "worker",
                "--loglevel=INFO",
                *concurrency,
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "crm",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}",
            ],
        }
        procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"\nCRM running at http://{addr}/"))
        self.stdout.write(
            "Demo logins (password: DEMO_PASSWORD, default 'demo-pass-123'): "
            "rep, agent, manager, admin.\nCtrl-C stops the web server, worker and beat.\n"
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("Stopped.")
