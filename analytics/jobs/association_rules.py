"""Cross-sell rules with mlxtend fpgrowth, and per-customer product recommendations.

Input: lines with order_id, customer_id, product_id (one row per order line of a revenue
order). A basket is an order's set of distinct products.

Memory and time are bounded by construction: baskets above `max_basket` products are left
out (a few huge invoices would otherwise explode the itemset count), itemsets are at most
`max_len` long, and the minimum support is raised until the frequent pairs fit a budget
(counted exactly with one sparse matrix product before fpgrowth runs) and at most
`max_items` products are frequent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
from scipy import sparse

from .base import InsufficientData, Progress, no_progress

# Floating-point sums make a confidence of exactly 0.8 come out as 0.7999...: thresholds are
# compared with this much slack.
TOLERANCE = 1e-9
MIN_BASKETS = 100
MIN_BASKET_COUNT = 10  # an itemset must appear in at least this many baskets
MAX_BASKET = 50
MAX_LEN = 3
MAX_PAIRS = 5_000  # frequent pairs allowed; triples stay well below this on basket data
# Products fpgrowth may see: mlxtend's FP-tree is Python objects, and its size grows with
# the items per basket it keeps. Measured on 980k baskets: 1,000 items 1.3 GB and 8 s,
# 2,000 items 2.2 GB, all 5,000 (support 33 baskets) 5 GB and 27 s. The support is raised
# until at most this many products are frequent: an itemset is never more frequent than
# its rarest product, so the result is still exactly fpgrowth's at that support.
MAX_ITEMS = 1_000
MIN_CONFIDENCE = 0.1
MAX_RULES = 10_000  # kept, best lift first
TOP_N = 5  # recommendations per customer
CHUNK_CELLS = 20_000_000  # customers x recommendable products per recommendation chunk


@dataclass
class RulesResult:
    rules: (
        pd.DataFrame
    )  # antecedents, consequents (sorted tuples of product ids), support, confidence, lift, baskets
    recommendations: (
        pd.DataFrame
    )  # customer_id, product_id, rank, confidence, lift, because (tuple)
    metrics: dict = field(default_factory=dict)


def one_hot(lines: pd.DataFrame, *, max_basket: int = MAX_BASKET):
    """Sparse basket x product matrix (bool CSR), the product ids of its columns, and how
    many baskets were left out for being too large."""
    pairs = lines[["order_id", "product_id"]].drop_duplicates()
    sizes = pairs.groupby("order_id")["product_id"].transform("size")
    too_big = pairs.loc[sizes > max_basket, "order_id"].nunique()
    pairs = pairs[sizes <= max_basket]
    rows, _baskets = pd.factorize(pairs["order_id"], sort=True)
    cols, products = pd.factorize(pairs["product_id"], sort=True)
    data = np.ones(len(rows), dtype=bool)
    x = sparse.csr_matrix((data, (rows, cols)), shape=(len(_baskets), len(products)))
    return x, np.asarray(products), int(too_big)


def choose_min_count(x: sparse.csr_matrix, *, floor: int, max_pairs: int) -> int:
    """The smallest basket count >= floor at which at most `max_pairs` product pairs are
    frequent, from exact pair counts (X'X over the products that could be frequent)."""
    item_counts = np.asarray(x.sum(axis=0)).ravel()
    keep = np.flatnonzero(item_counts >= floor)
    if len(keep) < 2:
        return floor
    sub = x[:, keep].astype(np.int32)
    co = sparse.triu(sub.T @ sub, k=1).tocoo()
    counts = np.sort(co.data)[::-1]
    if len(counts) <= max_pairs or counts[max_pairs] < floor:
        return floor
    return int(counts[max_pairs]) + 1


def frequent_itemsets(
    x: sparse.csr_matrix, products: np.ndarray, *, min_support: float, max_len: int
) -> pd.DataFrame:
    """mlxtend fpgrowth on the sparse one-hot frame; itemsets as frozensets of product ids."""
    # Positional column names: mlxtend's sparse input check rejects integer names that do
    # not start at 0, so the product ids go back in afterwards.
    frame = pd.DataFrame.sparse.from_spmatrix(x, columns=pd.RangeIndex(x.shape[1]))
    found = fpgrowth(frame, min_support=min_support, use_colnames=True, max_len=max_len)
    found["itemsets"] = [frozenset(int(products[i]) for i in s) for s in found["itemsets"]]
    return found


def rules_from_itemsets(
    itemsets: pd.DataFrame, n_baskets: int, *, min_confidence: float
) -> pd.DataFrame:
    if itemsets.empty or (itemsets["itemsets"].map(len) < 2).all():
        return pd.DataFrame(
            columns=["antecedents", "consequents", "support", "confidence", "lift", "baskets"]
        )
    rules = association_rules(
        itemsets,
        num_itemsets=n_baskets,
        metric="confidence",
        min_threshold=min_confidence - TOLERANCE,
        return_metrics=["support", "confidence", "lift"],
    )
    rules = rules[rules["lift"] > 1 + TOLERANCE]
    out = pd.DataFrame(
        {
            "antecedents": [tuple(sorted(int(p) for p in s)) for s in rules["antecedents"]],
            "consequents": [tuple(sorted(int(p) for p in s)) for s in rules["consequents"]],
            "support": rules["support"].to_numpy(),
            "confidence": rules["confidence"].to_numpy(),
            "lift": rules["lift"].to_numpy(),
        }
    )
    out["baskets"] = np.rint(out["support"] * n_baskets).astype(np.int64)
    return out.sort_values(
        ["lift", "confidence", "antecedents", "consequents"], ascending=[False, False, True, True]
    ).reset_index(drop=True)


def recommend(lines: pd.DataFrame, rules: pd.DataFrame, *, top_n: int = TOP_N) -> pd.DataFrame:
    """Per customer, up to top_n products not bought yet, from the rules whose antecedents
    they have all bought; a product's score is its best rule (confidence, then lift).

    Customers are processed in chunks (about CHUNK_CELLS customers x recommendable products
    at a time); within one, only the (customer, product) pairs some triggered rule names
    are kept, each with its best rule (rules sorted best first), so memory stays bounded.
    """
    cols = ["customer_id", "product_id", "rank", "confidence", "lift", "because"]
    if rules.empty or lines.empty:
        return pd.DataFrame(columns=cols)
    rules = rules.sort_values(["confidence", "lift"], ascending=False, kind="stable")
    rules = rules.reset_index(drop=True)
    bought = lines[["customer_id", "product_id"]].drop_duplicates()
    cust_idx, customers = pd.factorize(bought["customer_id"], sort=True)
    ante = rules["antecedents"].to_numpy()
    cons = rules["consequents"].to_numpy()
    products = np.union1d(
        np.unique(bought["product_id"].to_numpy()),
        np.unique(np.concatenate([np.concatenate(ante), np.concatenate(cons)])),
    )
    prod_idx = np.searchsorted(products, bought["product_id"].to_numpy())
    n_c, n_p, n_r = len(customers), len(products), len(rules)
    c = sparse.csr_matrix(
        (np.ones(len(bought), dtype=np.int32), (cust_idx, prod_idx)), shape=(n_c, n_p)
    )
    ante_len = np.fromiter((len(a) for a in ante), dtype=np.int64, count=n_r)
    a = sparse.csr_matrix(
        (
            np.ones(int(ante_len.sum()), dtype=np.int32),
            (np.searchsorted(products, np.concatenate(ante)), np.repeat(np.arange(n_r), ante_len)),
        ),
        shape=(n_p, n_r),
    )
    cons_len = np.fromiter((len(x) for x in cons), dtype=np.int64, count=n_r)
    # Only products that some rule recommends can be recommended: the dense per-chunk array
    # has one column per such product, not one per product in the catalogue.
    targets = np.unique(np.concatenate(cons))
    n_t = len(targets)
    cons_items = np.searchsorted(targets, np.concatenate(cons))
    cons_start = np.r_[0, np.cumsum(cons_len)[:-1]]
    bought_ids = bought["product_id"].to_numpy()
    at = np.minimum(np.searchsorted(targets, bought_ids), n_t - 1)
    is_target = targets[at] == bought_ids
    owned_all = sparse.csr_matrix(
        (np.ones(int(is_target.sum()), dtype=np.int8), (cust_idx[is_target], at[is_target])),
        shape=(n_c, n_t),
    )
    chunk = max(1, CHUNK_CELLS // n_t)
    out_c, out_p, out_r = [], [], []
    for lo in range(0, n_c, chunk):
        cc = c[lo : lo + chunk]
        hits = (cc @ a).tocsr()  # customers x rules: antecedent products bought
        full = hits.data == ante_len[hits.indices]
        hit_cust = np.repeat(np.arange(cc.shape[0]), np.diff(hits.indptr))[full]
        hit_rule = hits.indices[full]
        reps = cons_len[hit_rule]
        offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        item = cons_items[np.repeat(cons_start[hit_rule], reps) + offsets]
        # Candidates as (customer, product) keys with the rule that names them; only the
        # pairs some rule triggers (a dense customers x products array is mostly empty).
        key = np.repeat(hit_cust, reps).astype(np.int64) * n_t + item
        rule = np.repeat(hit_rule, reps).astype(np.int64)
        order = np.lexsort((rule, key))  # per pair, its best rule (rules sorted best first)
        key, rule = key[order], rule[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
        key, rule = key[first], rule[first]
        owned = owned_all[lo : lo + chunk].tocoo()
        owned_key = np.sort(owned.row.astype(np.int64) * n_t + owned.col)
        if len(owned_key) and len(key):  # never recommend what was bought
            at = np.minimum(np.searchsorted(owned_key, key), len(owned_key) - 1)
            keep = owned_key[at] != key
            key, rule = key[keep], rule[keep]
        cust, prod = key // n_t, key % n_t
        # Per customer the top_n best rules' products (ties in product order).
        order = np.lexsort((prod, rule, cust))
        cust, prod, rule = cust[order], prod[order], rule[order]
        idx = np.arange(len(cust))
        starts = np.r_[True, cust[1:] != cust[:-1]] if len(cust) else np.zeros(0, dtype=bool)
        rank = idx - np.maximum.accumulate(np.where(starts, idx, 0))
        keep = rank < top_n
        out_c.append(cust[keep] + lo)
        out_p.append(prod[keep])
        out_r.append(rule[keep])
    cand = pd.DataFrame(
        {"c": np.concatenate(out_c), "p": np.concatenate(out_p), "rule": np.concatenate(out_r)}
    )
    cand = cand.sort_values(["c", "rule", "p"], kind="stable")
    cand["rank"] = cand.groupby("c").cumcount() + 1
    rule = cand["rule"].to_numpy()
    return pd.DataFrame(
        {
            "customer_id": customers.to_numpy()[cand["c"].to_numpy()],
            "product_id": targets[cand["p"].to_numpy()],
            "rank": cand["rank"].to_numpy(),
            "confidence": rules["confidence"].to_numpy()[rule],
            "lift": rules["lift"].to_numpy()[rule],
            "because": ante[rule],
        }
    )[cols]


def run(
    lines: pd.DataFrame,
    *,
    min_support: float | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    max_len: int = MAX_LEN,
    max_basket: int = MAX_BASKET,
    max_pairs: int = MAX_PAIRS,
    max_items: int = MAX_ITEMS,
    max_rules: int = MAX_RULES,
    top_n: int = TOP_N,
    progress: Progress = no_progress,
) -> RulesResult:
    x, products, too_big = one_hot(lines, max_basket=max_basket)
    n_baskets = x.shape[0]
    multi = int((np.diff(x.indptr) >= 2).sum())
    if multi < MIN_BASKETS:
        raise InsufficientData("rules_baskets", minimum=MIN_BASKETS, found=multi)
    progress(15, "support")
    item_counts = np.asarray(x.sum(axis=0)).ravel()
    ranked = np.sort(item_counts)[::-1]
    if min_support is None:
        # The product cap's count is a floor for the pair budget too: the pair counts then
        # cover those few products only (the same answer, pair counts being monotone).
        floor = MIN_BASKET_COUNT
        if len(ranked) > max_items:
            floor = max(floor, int(ranked[max_items]) + 1)
        min_count = choose_min_count(x, floor=floor, max_pairs=max_pairs)
        min_support = min_count / n_baskets
    # Products below the support can be in no frequent itemset: dropping their columns first
    # is what makes fpgrowth's dense header table small.
    if len(ranked) > max_items and ranked[max_items] >= min_support * n_baskets - TOLERANCE:
        # More products are frequent than fpgrowth may see: the support rises just above
        # the count of the first product past the cap.
        min_support = (int(ranked[max_items]) + 1) / n_baskets
    keep = np.flatnonzero(item_counts >= min_support * n_baskets - TOLERANCE)
    progress(30, "fpgrowth")
    itemsets = frequent_itemsets(
        x[:, keep], products[keep], min_support=min_support, max_len=max_len
    )
    progress(60, "rules")
    rules = rules_from_itemsets(itemsets, n_baskets, min_confidence=min_confidence)
    total_rules = len(rules)
    rules = rules.head(max_rules).reset_index(drop=True)
    progress(75, "recommendations")
    recs = recommend(lines, rules, top_n=top_n)
    metrics = {
        "baskets": int(n_baskets),
        "multi_item_baskets": multi,
        "baskets_over_cap": too_big,
        "products": int(len(products)),
        "min_support": float(min_support),
        "min_confidence": float(min_confidence),
        "max_len": int(max_len),
        "max_items": int(max_items),
        "products_in_fpgrowth": int(len(keep)),
        "itemsets": int(len(itemsets)),
        "rules_found": int(total_rules),
        "rules_kept": int(len(rules)),
        "recommendations": int(len(recs)),
        "customers_with_recommendations": int(recs["customer_id"].nunique()) if len(recs) else 0,
    }
    return RulesResult(rules=rules, recommendations=recs, metrics=metrics)
