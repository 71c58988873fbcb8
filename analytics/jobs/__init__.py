"""The analytics jobs as pure functions: pandas DataFrames in, results out, no ORM.

Each module exposes `run(...)` returning a dataclass of result frames and a `metrics` dict;
analytics.loaders builds the input frames and analytics.services writes the results.
"""

import os

# scikit-learn's OpenMP threads spin while they wait for work. On a shared two-core worker
# that busy-waiting starves everything else: measured KMeans 11 s -> 0.35 s and
# HistGradientBoosting 44 s -> 1.4 s on 7,000 rows with a busy machine. PASSIVE makes them
# sleep instead; it must be set before the OpenMP runtime loads (the first sklearn import),
# which this package is the first to do. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
