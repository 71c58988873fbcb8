"""What every job shares: the "too little data" signal and the progress callback."""

from __future__ import annotations

from collections.abc import Callable

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
