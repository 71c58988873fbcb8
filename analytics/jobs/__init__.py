"""The analytics jobs as pure functions: pandas DataFrames in, results out, no ORM.

Each module exposes `run(...)` returning a dataclass of result frames and a `metrics` dict;
analytics.loaders builds the input frames and analytics.services writes the results.
"""
