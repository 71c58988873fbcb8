"""Child processes that the harness starts: each in a process group of its own, so stopping
it also stops whatever it started (gunicorn's workers, locust's greenlets), and every one is
registered so the run's `finally` stops them all, even after Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_RUNNING: list[subprocess.Popen] = []


@dataclass
class Finished:
    """A child that ran to its end (or was stopped at its time limit)."""

    returncode: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def start(cmd: list[str], *, env: dict, cwd: Path, log: Path | None = None) -> subprocess.Popen:
    """Start a long-running child (a server) in a new session; output goes to `log`."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (kept for the child)
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    if log:
        out.close()  # the child holds its own descriptor
    _RUNNING.append(proc)
    return proc


def stop(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM to the child's whole process group, SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    else:
        # The leader has gone; make sure nothing it left in its group lives on.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc in _RUNNING:
        _RUNNING.remove(proc)


def stop_all() -> None:
    for proc in list(_RUNNING):
        stop(proc)


def run(cmd: list[str], *, env: dict, cwd: Path, timeout: float | None = None) -> Finished:
    """Run a child to its end in its own process group and measure it: wall seconds and
    peak resident memory (wait4's rusage of that child alone). Past `timeout` the group is
    killed and `timed_out` is set."""
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    _RUNNING.append(proc)
    timed_out = False
    try:
        # communicate() drains both pipes (a chatty child would block on a full pipe), but
        # it reaps the child with waitpid, which loses the rusage; so read the pipes in
        # threads and reap with wait4 here.
        import threading

        chunks: dict[str, list[str]] = {"out": [], "err": []}

        def drain(stream, key):
            for line in stream:
                chunks[key].append(line)

        threads = [
            threading.Thread(target=drain, args=(proc.stdout, "out"), daemon=True),
            threading.Thread(target=drain, args=(proc.stderr, "err"), daemon=True),
        ]
        for t in threads:
            t.start()
        deadline = None if timeout is None else started + timeout
        rusage = None
        status = 0
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                pid, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        for t in threads:
            t.join(timeout=5)
    finally:
        if proc.returncode is None:
            stop(proc, grace=2)
        elif proc in _RUNNING:
            _RUNNING.remove(proc)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers left in the group
    # ru_maxrss is in kilobytes on Linux.
    return Finished(
        returncode=proc.returncode,
        seconds=seconds,
        peak_rss_mb=rusage.ru_maxrss / 1024 if rusage else 0.0,
        stdout="".join(chunks["out"]),
        stderr="".join(chunks["err"]),
        timed_out=timed_out,
    )
