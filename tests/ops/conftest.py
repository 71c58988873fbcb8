"""Fixtures for the operations tests: a Redis server of our own (never the shared one)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

# Ports set aside for these tests on the build machines.
REDIS_PORTS = range(6390, 6400)


def free_port(candidates) -> int:
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")


class RedisServer:
    """A throw-away redis-server without persistence, stopped and started at will."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{port}/0"

    def _cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True
        )

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.workdir),
                "--pidfile",
                str(self.workdir / f"redis-{self.port}.pid"),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while self._cli("ping").stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._cli("shutdown", "nosave")
        deadline = time.monotonic() + 10
        while self._cli("ping").returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture(scope="session")
def own_redis(tmp_path_factory):
    assert shutil.which("redis-server"), "redis-server is needed (Debian package redis-server)"
    server = RedisServer(free_port(REDIS_PORTS), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
