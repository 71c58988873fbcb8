"""The benchmark: `make bench` (scale M) or `make bench SCALE=S`, i.e. `python -m bench`.

It builds or reuses a PostgreSQL database per scale (seed_demo; reused while its row counts
match, keyed by scale, seed and the demo code), then measures, each against a baseline
taken in the same run on the same data:

- imports (bench/imports.py): CSV files exported from the seeded data through the app's
  real import path (`customers.import_services.run_import`, as `import_csv` and the Celery
  tasks use it), against a raw COPY of the same file into a bare table;
- analytics jobs (bench/jobs.py): `run_job KIND --sync` end to end, against one query for
  the same input plus the raw library calls the job makes, with the settings the job chose
  on this data in this run (bench/job_baselines.py);
- pages (bench/pages.py, a list of pages kept as data): the app under gunicorn with
  production settings on 127.0.0.1, loaded by locust headless from a second process at 4
  and 16 concurrent users, against a constant view behind the same middleware; queries per
  request counted in-process (bench/probe.py).

Anything not built yet is reported "not available" with the reason, never with a number.
It prints a table and writes bench/results/scale-<S|M>.json and .md; every process it
starts runs in a process group of its own and is stopped in a `finally`.
"""
