"""The physical limit of each analytics job, run as
`python -m bench.job_baselines KIND [PARAMS_JSON]` against the benchmark database: read the
job's input with ONE SQL query (COPY ... TO STDOUT into pandas), then make the raw library
calls the job makes, with the job's own settings (among them its thread limit,
analytics.jobs.base.limited_threads), on that same data:

- segmentation: KMeans.fit on the standardised customer feature matrix (the job's seven
  features and scaling, the k the job chose, the job's number of restarts);
- association_rules: mlxtend fpgrowth and association_rules on the same sparse one-hot
  frame (the job's basket cap, min support and max_len);
- forecast: the regression fits (back-test and final, monthly and weekly) on the revenue
  series;
- churn: the two candidate models (logistic regression, histogram gradient boosting, with
  the job's hyper-parameters) fitted on the same fourteen features before the cutoff,
  labelled by the 90 days after it, on the same 75% training split;
- customer_value: the BG/NBD and Gamma-Gamma maximum-likelihood fits (scipy, the job's
  likelihoods and optimiser).

PARAMS_JSON holds what the job chose on this data in the same run (k, min_support), read
from its JobRun metrics by bench/jobs.py, so the baseline makes exactly the job's call; when
it is missing the job's defaults are used. The baseline never does the job's extra work
(choosing k, recommendations, explanations, writing): that is what the ratio measures.

No Django here: psycopg2, the analytics libraries and the jobs' pure modules
(analytics/jobs/, which import no Django). Prints one JSON line with the load and call
times; the parent measures the whole process (wall time, peak memory)."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from analytics.jobs.base import limited_threads

SEED = 0
REVENUE = "status NOT IN ('draft', 'cancelled')"  # as analytics.loaders.REVENUE_EXCLUDED


def read(sql: str) -> pd.DataFrame:
    """One query into pandas through COPY (the fastest path PostgreSQL offers)."""
    import psycopg2

    parts = urlsplit(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/"),
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            buf = io.StringIO()
            cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf)
        buf.seek(0)
        return pd.read_csv(buf)
    finally:
        conn.close()


def segmentation(params: dict) -> tuple[float, float, dict]:
    from sklearn.cluster import KMeans

    from analytics.jobs import segmentation as job

    t0 = time.perf_counter()
    feats = read(
        f"""
        WITH o AS (
            SELECT customer_id, count(*) AS frequency, sum(total)::float8 AS monetary,
                   min(ordered_at) AS first_order, max(ordered_at) AS last_order
            FROM sales_order WHERE {REVENUE} GROUP BY customer_id
        ), t AS (SELECT customer_id, count(*) AS tickets FROM service_ticket GROUP BY 1)
        SELECT o.customer_id,
               EXTRACT(EPOCH FROM now() - o.last_order) / 86400 AS recency_days,
               o.frequency, o.monetary,
               EXTRACT(EPOCH FROM now() - LEAST(o.first_order, c.created_at)) / 86400
                   AS tenure_days,
               EXTRACT(EPOCH FROM now() - c.birth_date::timestamp) / 86400 / 365.25 AS age,
               c.annual_income::float8 AS income, COALESCE(t.tickets, 0) AS tickets
        FROM o JOIN customers_customer c ON c.id = o.customer_id
        LEFT JOIN t ON t.customer_id = o.customer_id
        ORDER BY o.customer_id
        """
    ).set_index("customer_id")
    x = job.matrix(feats[job.FEATURES].astype("float64"))
    k = int(params.get("k") or 6)
    t1 = time.perf_counter()
    with limited_threads():
        KMeans(n_clusters=k, n_init=job.N_INIT, random_state=SEED).fit(x)
    return t1 - t0, time.perf_counter() - t1, {"matrix": list(x.shape), "k": k}


def association_rules(params: dict) -> tuple[float, float, dict]:
    from mlxtend.frequent_patterns import association_rules as rules_of
    from mlxtend.frequent_patterns import fpgrowth

    from analytics.jobs import association_rules as job

    t0 = time.perf_counter()
    lines = read(
        "SELECT l.order_id, l.product_id FROM sales_orderline l "
        f"JOIN sales_order o ON o.id = l.order_id WHERE o.{REVENUE}"
    )
    # The job's frame: baskets above its cap left out, then only the products that can be
    # frequent at its support (fpgrowth would drop the others itself).
    x, products, _ = job.one_hot(lines, max_basket=job.MAX_BASKET)
    n = x.shape[0]
    min_support = params.get("min_support")
    counts = np.asarray(x.sum(axis=0)).ravel()
    if min_support is None:  # the job's rule: a budget of frequent pairs and of products
        min_count = job.choose_min_count(x, floor=job.MIN_BASKET_COUNT, max_pairs=job.MAX_PAIRS)
        ranked = np.sort(counts)[::-1]
        if len(ranked) > job.MAX_ITEMS:
            min_count = max(min_count, int(ranked[job.MAX_ITEMS]) + 1)
        min_support = min_count / n
    keep = np.flatnonzero(counts >= min_support * n - job.TOLERANCE)
    onehot = pd.DataFrame.sparse.from_spmatrix(x[:, keep], columns=pd.RangeIndex(len(keep)))
    t1 = time.perf_counter()
    with limited_threads():
        itemsets = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=job.MAX_LEN)
        rules = (
            rules_of(
                itemsets,
                num_itemsets=n,
                metric="confidence",
                min_threshold=job.MIN_CONFIDENCE - job.TOLERANCE,
                return_metrics=["support", "confidence", "lift"],
            )
            if (itemsets["itemsets"].map(len) > 1).any()
            else []
        )
    return (
        t1 - t0,
        time.perf_counter() - t1,
        {
            "baskets": n,
            "products": len(keep),
            "min_support": round(float(min_support), 7),
            "itemsets": len(itemsets),
            "rules": len(rules),
        },
    )


def forecast(params: dict) -> tuple[float, float, dict]:
    from analytics.jobs import forecast as job

    t0 = time.perf_counter()
    series = {}
    for gran, unit in (("month", "month"), ("week", "week")):
        frame = read(
            f"SELECT date_trunc('{unit}', ordered_at) AS period, sum(total)::float8 AS revenue "
            f"FROM sales_order WHERE {REVENUE} GROUP BY 1 ORDER BY 1"
        )
        # Complete periods only, as the job (the first and the running one left out).
        series[gran] = frame["revenue"].to_numpy(float)[1:-1]
    t1 = time.perf_counter()
    with limited_threads():
        for gran, y in series.items():
            season = job.SEASON[gran]
            use_lag = len(y) - job.HOLDOUT - season >= job.MIN_TRAIN_WITH_SEASONAL_LAG
            job.SeasonalRegression(season, use_seasonal_lag=use_lag).fit(y[: -job.HOLDOUT])
            job.SeasonalRegression(season, use_seasonal_lag=use_lag).fit(y)
    return t1 - t0, time.perf_counter() - t1, {g: len(y) for g, y in series.items()}


CHURN_FEATURES_SQL = """
    WITH cut AS (SELECT now() - interval '{horizon} days' AS at),
    o AS (
        SELECT customer_id,
               EXTRACT(EPOCH FROM (SELECT at FROM cut) - max(ordered_at)) / 86400 AS recency_days,
               count(*)::float8 AS frequency, sum(total)::float8 AS monetary,
               EXTRACT(EPOCH FROM (SELECT at FROM cut) - min(ordered_at)) / 86400 AS tenure_days,
               count(*) FILTER (WHERE ordered_at > (SELECT at FROM cut) - interval '90 days')
                   AS orders_90d,
               count(*) FILTER (WHERE ordered_at > (SELECT at FROM cut) - interval '180 days'
                   AND ordered_at <= (SELECT at FROM cut) - interval '90 days')
                   AS orders_prev_90d,
               COALESCE(sum(total) FILTER (
                   WHERE ordered_at > (SELECT at FROM cut) - interval '180 days'), 0)::float8
                   AS recent,
               COALESCE(sum(total) FILTER (
                   WHERE ordered_at > (SELECT at FROM cut) - interval '365 days'
                   AND ordered_at <= (SELECT at FROM cut) - interval '180 days'), 0)::float8
                   AS before
        FROM sales_order WHERE {revenue} AND ordered_at < (SELECT at FROM cut)
        GROUP BY customer_id
        HAVING max(ordered_at) > (SELECT at FROM cut) - interval '365 days'
    ), t AS (
        SELECT customer_id, count(*) AS tickets_365d,
               count(*) FILTER (WHERE category = 'complaint') AS complaints_365d,
               count(*) FILTER (WHERE (first_responded_at > first_response_due)
                   OR (first_responded_at IS NULL AND first_response_due < now())
                   OR (resolved_at > resolution_due)
                   OR (resolved_at IS NULL AND resolution_due < now())) AS sla_breaches_365d
        FROM service_ticket
        WHERE created_at < (SELECT at FROM cut)
          AND created_at > (SELECT at FROM cut) - interval '365 days'
        GROUP BY customer_id
    ), i AS (
        SELECT customer_id, count(*) AS interactions_180d FROM customers_interaction
        WHERE occurred_at <= (SELECT at FROM cut)
          AND occurred_at > (SELECT at FROM cut) - interval '180 days'
        GROUP BY customer_id
    ), later AS (
        SELECT DISTINCT customer_id FROM sales_order
        WHERE {revenue} AND ordered_at >= (SELECT at FROM cut)
          AND ordered_at < (SELECT at FROM cut) + interval '{horizon} days'
    )
    SELECT o.customer_id, o.recency_days, o.frequency, o.monetary,
           o.monetary / o.frequency AS avg_order_value, o.tenure_days,
           o.recency_days / GREATEST(o.tenure_days / GREATEST(o.frequency, 1), 1)
               AS overdue_ratio,
           o.orders_90d, o.orders_prev_90d,
           (o.recent - o.before) / GREATEST(o.recent + o.before, 1) AS spend_trend,
           COALESCE(t.tickets_365d, 0) AS tickets_365d,
           COALESCE(t.complaints_365d, 0) AS complaints_365d,
           COALESCE(t.sla_breaches_365d, 0) AS sla_breaches_365d,
           NULL::float8 AS satisfaction,
           COALESCE(i.interactions_180d, 0) AS interactions_180d,
           (later.customer_id IS NULL)::int AS churned
    FROM o LEFT JOIN t USING (customer_id) LEFT JOIN i USING (customer_id)
    LEFT JOIN later USING (customer_id)
    ORDER BY o.customer_id
"""


def churn(params: dict) -> tuple[float, float, dict]:
    from sklearn.model_selection import train_test_split

    from analytics.jobs import churn as job

    t0 = time.perf_counter()
    df = read(CHURN_FEATURES_SQL.format(horizon=job.HORIZON_DAYS, revenue=REVENUE))
    y = df.pop("churned").to_numpy()
    feats = df.set_index("customer_id")[job.FEATURES].astype("float64")
    x = job.Transform().fit(feats)(feats)
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)
    t1 = time.perf_counter()
    with limited_threads():
        for model in job.candidate_models(SEED).values():
            model.fit(x_train, y_train)
    return (
        t1 - t0,
        time.perf_counter() - t1,
        {"customers": len(y), "churned": int(y.sum()), "features": x.shape[1]},
    )


def customer_value(params: dict) -> tuple[float, float, dict]:
    from analytics.jobs import clv

    t0 = time.perf_counter()
    df = read(
        f"""
        WITH d AS (
            SELECT customer_id, date_trunc('day', ordered_at) AS day, sum(total)::float8 AS amount
            FROM sales_order WHERE {REVENUE} GROUP BY 1, 2
        )
        SELECT customer_id, count(*) - 1 AS x,
               EXTRACT(EPOCH FROM max(day) - min(day)) / 604800 AS t_x,
               EXTRACT(EPOCH FROM date_trunc('day', now()) - min(day)) / 604800 AS big_t,
               (sum(amount) - (array_agg(amount ORDER BY day))[1])
                   / NULLIF(count(*) - 1, 0) AS m_x
        FROM d GROUP BY customer_id
        """
    )
    t1 = time.perf_counter()
    # The job's fits (its likelihoods, optimiser and penalty) on the same inputs.
    with limited_threads():
        bg = clv.fit_bgnbd(df["x"], df["t_x"], df["big_t"], penalizer=1e-6)
        gg = clv.fit_gamma_gamma(df["x"], df["m_x"], penalizer=1e-6)
    return (
        t1 - t0,
        time.perf_counter() - t1,
        {
            "customers": len(df),
            "bgnbd": [round(v, 4) for v in (bg.r, bg.alpha, bg.a, bg.b)],
            "gamma_gamma": [round(v, 4) for v in (gg.p, gg.q, gg.v)],
        },
    )


BASELINES = {
    "segmentation": segmentation,
    "association_rules": association_rules,
    "forecast": forecast,
    "churn": churn,
    "customer_value": customer_value,
}


def main(kind: str, params: dict | None = None) -> dict:
    load, call, info = BASELINES[kind](params or {})
    return {"load_seconds": load, "call_seconds": call, "info": info}


if __name__ == "__main__":
    print(
        json.dumps(
            main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}), default=str
        )
    )
