"""The physical limit of each analytics job, run as `python -m bench.job_baselines KIND`
against the benchmark database: read the job's input with ONE SQL query into pandas, then
make the raw library calls the job cannot avoid, on that same data:

- segmentation: KMeans.fit on the standardised customer feature matrix;
- association_rules: mlxtend fpgrowth (and association_rules) on the sparse one-hot frame
  of the order baskets;
- forecast: the regression fit on monthly revenue (trend, season, lags);
- churn: logistic regression and histogram gradient boosting fits on the features before
  a cutoff, labelled by the 90 days after it;
- customer_value: the BG/NBD and Gamma-Gamma maximum-likelihood fits (scipy).

No Django here: psycopg2 and the analytics libraries only. Prints one JSON line with the
load and call times; the parent measures the whole process (wall time, peak memory)."""

from __future__ import annotations

import json
import os
import sys
import time
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

SEED = 0
MIN_SUPPORT = 0.001  # association rules: 0.1% of the baskets


def read(sql: str) -> pd.DataFrame:
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
            cur.execute(sql)
            cols = [c.name for c in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)
    finally:
        conn.close()


CUSTOMER_FEATURES = """
    WITH o AS (
        SELECT customer_id, count(*) AS frequency, sum(total)::float8 AS monetary,
               max(ordered_at) AS last_order
        FROM sales_order GROUP BY customer_id
    ), t AS (SELECT customer_id, count(*) AS tickets FROM service_ticket GROUP BY customer_id)
    SELECT c.id,
           EXTRACT(EPOCH FROM now() - COALESCE(o.last_order, c.created_at)) / 86400 AS recency,
           COALESCE(o.frequency, 0) AS frequency, COALESCE(o.monetary, 0) AS monetary,
           EXTRACT(EPOCH FROM now() - c.created_at) / 86400 AS tenure,
           EXTRACT(YEAR FROM age(c.birth_date)) AS age,
           c.annual_income::float8 AS income, COALESCE(t.tickets, 0) AS tickets
    FROM customers_customer c
    LEFT JOIN o ON o.customer_id = c.id LEFT JOIN t ON t.customer_id = c.id
"""


def segmentation() -> tuple[float, float, dict]:
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    t0 = time.perf_counter()
    df = read(CUSTOMER_FEATURES).set_index("id").astype("float64")
    df = df.fillna(df.median())
    x = StandardScaler().fit_transform(df.to_numpy())
    t1 = time.perf_counter()
    KMeans(n_clusters=6, n_init="auto", random_state=SEED).fit(x)
    return t1 - t0, time.perf_counter() - t1, {"matrix": list(x.shape), "k": 6}


def association_rules() -> tuple[float, float, dict]:
    from mlxtend.frequent_patterns import association_rules as rules_of
    from mlxtend.frequent_patterns import fpgrowth
    from scipy import sparse

    t0 = time.perf_counter()
    lines = read("SELECT order_id, product_id FROM sales_orderline")
    order_codes, order_index = pd.factorize(lines["order_id"])
    # Only items at or above the minimum support can be in an itemset; fpgrowth drops the
    # others itself, so the smallest frame it can be given has only those columns (and
    # every basket, which the support counts divide by).
    support = lines["product_id"].value_counts() / len(order_index)
    frequent = support.index[support >= MIN_SUPPORT]
    keep = lines["product_id"].isin(frequent).to_numpy()
    product_codes, products = pd.factorize(lines["product_id"][keep])
    matrix = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (order_codes[keep], product_codes)),
        shape=(len(order_index), len(products)),
    )
    onehot = pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(p) for p in products])
    t1 = time.perf_counter()
    # Support of 0.1% of the baskets and pairs/triples only: a bounded itemset count.
    itemsets = fpgrowth(onehot, min_support=MIN_SUPPORT, max_len=3)
    rules = (
        rules_of(itemsets, num_itemsets=len(onehot), metric="confidence", min_threshold=0.1)
        if len(itemsets)
        else []
    )
    return (
        t1 - t0,
        time.perf_counter() - t1,
        {
            "baskets": len(order_index),
            "products": len(products),
            "itemsets": len(itemsets),
            "rules": len(rules),
        },
    )


def forecast() -> tuple[float, float, dict]:
    from sklearn.linear_model import Ridge

    t0 = time.perf_counter()
    monthly = read(
        "SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC') AS month, "
        "sum(total)::float8 AS revenue FROM sales_order GROUP BY 1 ORDER BY 1"
    )
    y = monthly["revenue"].to_numpy()
    n = len(y)
    month = pd.to_datetime(monthly["month"]).dt.month.to_numpy()
    season = np.eye(12)[month - 1]
    lag1 = np.r_[y[0], y[:-1]]
    lag12 = np.r_[y[:12], y[:-12]] if n > 12 else lag1
    x = np.column_stack([np.arange(n), season, lag1, lag12])
    t1 = time.perf_counter()
    held = min(6, max(1, n // 4))
    Ridge(alpha=1.0).fit(x[:-held], y[:-held]).predict(x[-held:])
    Ridge(alpha=1.0).fit(x, y)
    return t1 - t0, time.perf_counter() - t1, {"periods": n}


def churn() -> tuple[float, float, dict]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    t0 = time.perf_counter()
    df = read(
        """
        WITH cut AS (SELECT max(ordered_at) - interval '90 days' AS at FROM sales_order),
        before AS (
            SELECT o.customer_id, count(*) AS frequency, sum(o.total)::float8 AS monetary,
                   EXTRACT(EPOCH FROM (SELECT at FROM cut) - max(o.ordered_at)) / 86400 AS recency,
                   EXTRACT(EPOCH FROM (SELECT at FROM cut) - min(o.ordered_at)) / 86400 AS tenure
            FROM sales_order o WHERE o.ordered_at < (SELECT at FROM cut) GROUP BY o.customer_id
        ), after AS (
            SELECT DISTINCT customer_id FROM sales_order WHERE ordered_at >= (SELECT at FROM cut)
        ), t AS (
            SELECT customer_id, count(*) AS tickets FROM service_ticket
            WHERE created_at < (SELECT at FROM cut) GROUP BY customer_id
        )
        SELECT b.*, COALESCE(t.tickets, 0) AS tickets,
               (a.customer_id IS NULL)::int AS churned
        FROM before b LEFT JOIN after a USING (customer_id) LEFT JOIN t USING (customer_id)
        """
    )
    y = df.pop("churned").to_numpy()
    x = df.drop(columns=["customer_id"]).astype("float64").to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=SEED)
    t1 = time.perf_counter()
    scaler = StandardScaler().fit(x_train)
    LogisticRegression(max_iter=1000).fit(scaler.transform(x_train), y_train)
    HistGradientBoostingClassifier(random_state=SEED).fit(x_train, y_train)
    return t1 - t0, time.perf_counter() - t1, {"customers": len(y), "churned": int(y.sum())}


def _bgnbd_nll(log_params, x, t_x, big_t):
    from scipy.special import betaln, gammaln

    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return -(a1 + a2 + np.logaddexp(a3, a4)).sum()


def _gamma_gamma_nll(log_params, x, m):
    from scipy.special import gammaln

    p, q, v = np.exp(log_params)
    px = p * x
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )
    return -ll.sum()


def customer_value() -> tuple[float, float, dict]:
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    df = read(
        """
        WITH d AS (
            SELECT customer_id, date_trunc('day', ordered_at) AS day, sum(total)::float8 AS amount
            FROM sales_order GROUP BY 1, 2
        ), f AS (
            SELECT customer_id, count(*) - 1 AS x,
                   EXTRACT(EPOCH FROM max(day) - min(day)) / 604800 AS t_x,
                   EXTRACT(EPOCH FROM (SELECT max(day) FROM d) - min(day)) / 604800 AS big_t,
                   (sum(amount) - (array_agg(amount ORDER BY day))[1])
                       / NULLIF(count(*) - 1, 0) AS m
            FROM d GROUP BY customer_id
        )
        SELECT * FROM f WHERE big_t > 0
        """
    )
    x = df["x"].to_numpy(float)
    t_x = df["t_x"].to_numpy(float)
    big_t = df["big_t"].to_numpy(float)
    repeat = (x > 0) & (df["m"].fillna(0).to_numpy(float) > 0)
    t1 = time.perf_counter()
    # Log-parameters, so L-BFGS-B needs no bounds; started from 1 (BG/NBD) and from the
    # mean spend's scale (Gamma-Gamma).
    bg = minimize(_bgnbd_nll, np.zeros(4), args=(x, t_x, big_t), method="L-BFGS-B")
    m = df["m"].to_numpy(float)[repeat]
    gg = minimize(
        _gamma_gamma_nll,
        np.log([1.0, 1.0, float(m.mean())]),
        args=(x[repeat], m),
        method="L-BFGS-B",
    )
    return (
        t1 - t0,
        time.perf_counter() - t1,
        {
            "customers": len(df),
            "bgnbd": np.exp(bg.x).round(4).tolist(),
            "gamma_gamma": np.exp(gg.x).round(4).tolist(),
        },
    )


BASELINES = {
    "segmentation": segmentation,
    "association_rules": association_rules,
    "forecast": forecast,
    "churn": churn,
    "customer_value": customer_value,
}


def main(kind: str) -> dict:
    load, call, info = BASELINES[kind]()
    return {"load_seconds": load, "call_seconds": call, "info": info}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), default=str))
