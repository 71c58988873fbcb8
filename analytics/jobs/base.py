"""What every job shares: the "too little data" signal and the progress callback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

# progress(percent, stage): called by a job as it goes; the task records it in the JobRun.
Progress = Callable[[int, str], None]


def no_progress(percent: int, stage: str) -> None:
    return None


class InsufficientData(Exception):  # noqa: N818 - a result, not an error
    """The data cannot support trustworthy results; `code` and `params` select the plain
    message shown to the user (analytics.messages)."""

    def __init__(self, code: str, **params):
        super().__init__(code, params)
        self.code = code
        self.params = params


def days_between(later: pd.Timestamp, earlier: pd.Series) -> np.ndarray:
    """Whole and fractional days from each `earlier` time to `later`."""
    return (later - earlier).dt.total_seconds().to_numpy() / 86400.0


def job_threads() -> int:
    """Threads a job's numeric libraries (OpenMP, BLAS) may use: ANALYTICS_JOB_THREADS, or
    half the cores (at least one). A job is background work beside the web server and the
    database; and OpenMP threads that do not each get a core spin and thrash (measured
    with a busy two-core machine: HistGradientBoosting 7 s on two threads, 0.35 s on one)."""
    value = os.environ.get("ANALYTICS_JOB_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, (os.cpu_count() or 2) // 2)


@contextmanager
def limited_threads(threads: int | None = None) -> Iterator[None]:
    """Cap the thread pools of the numeric libraries loaded so far (import the job's
    libraries first) for the duration of the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads or job_threads()):
        yield
