"""Cross-sell rules equal mlxtend's own output; recommendations skip what was bought."""

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules, fpgrowth
from mlxtend.preprocessing import TransactionEncoder

from analytics.jobs import association_rules as ar
from analytics.jobs.base import InsufficientData


def _baskets(n=600, seed=3):
    """Baskets with planted pairs (10 -> 11 often, 20 -> 21 sometimes) and noise."""
    rng = np.random.default_rng(seed)
    baskets = []
    for _ in range(n):
        items = set(rng.choice(np.arange(1, 30), size=rng.integers(1, 4), replace=False).tolist())
        if 10 in items and rng.random() < 0.8:
            items.add(11)
        if 20 in items and rng.random() < 0.5:
            items.add(21)
        baskets.append(sorted(items))
    return baskets


def _lines(baskets, customers=None):
    rows = []
    for i, items in enumerate(baskets, start=1):
        cust = customers[i - 1] if customers else i % 50 + 1
        rows += [(i, cust, p) for p in items]
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id"])


def test_rules_equal_mlxtends_own_output_on_the_same_baskets():
    baskets = _baskets()
    ours = ar.run(_lines(baskets), min_support=0.01, min_confidence=0.2, max_len=3).rules

    te = TransactionEncoder()
    onehot = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    items = fpgrowth(onehot, min_support=0.01, use_colnames=True, max_len=3)
    theirs = association_rules(
        items, num_itemsets=len(baskets), metric="confidence", min_threshold=0.2
    )
    theirs = theirs[theirs["lift"] > 1]
    expected = {
        (tuple(sorted(a)), tuple(sorted(c))): (s, conf, lift)
        for a, c, s, conf, lift in theirs[
            ["antecedents", "consequents", "support", "confidence", "lift"]
        ].itertuples(index=False)
    }
    got = {
        (a, c): (s, conf, lift)
        for a, c, s, conf, lift in ours[
            ["antecedents", "consequents", "support", "confidence", "lift"]
        ].itertuples(index=False)
    }
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values)
    assert ((10,), (11,)) in got  # the planted pair is found
    assert (ours["lift"] > 1).all()
    assert list(ours["lift"]) == sorted(ours["lift"], reverse=True)


def test_threshold_tolerance_keeps_a_confidence_of_exactly_the_minimum():
    # 10 baskets hold product 1, 8 of them also product 2: confidence exactly 0.8.
    baskets = [[1, 2]] * 8 + [[1]] * 2 + [[3]] * 90 + [[4, 5]] * 100
    rules = ar.run(_lines(baskets), min_support=0.01, min_confidence=0.8, max_len=2).rules
    assert ((1,), (2,)) in set(zip(rules["antecedents"], rules["consequents"], strict=True))


def test_huge_baskets_are_left_out_and_max_len_holds():
    baskets = _baskets() + [list(range(100, 180))] * 3
    result = ar.run(_lines(baskets), min_support=0.01, min_confidence=0.1, max_len=2, max_basket=50)
    assert result.metrics["baskets_over_cap"] == 3
    assert (result.rules["antecedents"].map(len) + result.rules["consequents"].map(len) <= 2).all()
    assert not any(p >= 100 for a in result.rules["antecedents"] for p in a)


def test_min_support_is_raised_until_the_pairs_fit_the_budget():
    baskets = _baskets(n=800)
    loose = ar.run(_lines(baskets), min_confidence=0.01, max_pairs=100_000)
    tight = ar.run(_lines(baskets), min_confidence=0.01, max_pairs=1)
    assert tight.metrics["min_support"] > loose.metrics["min_support"]
    pairs = sum(
        1
        for s in ar.frequent_itemsets(
            *ar.one_hot(_lines(baskets))[:2], min_support=tight.metrics["min_support"], max_len=2
        )["itemsets"]
        if len(s) == 2
    )
    assert pairs <= 1


def test_recommendations_are_products_not_bought_ranked_by_confidence():
    baskets = _baskets()
    # Customer 999 bought 10 and 20 (in separate orders) but neither 11 nor 21.
    lines = pd.concat(
        [
            _lines(baskets),
            pd.DataFrame(
                {"order_id": [5000, 5001], "customer_id": [999, 999], "product_id": [10, 20]}
            ),
        ],
        ignore_index=True,
    )
    result = ar.run(lines, min_support=0.01, min_confidence=0.2, max_len=2, top_n=3)
    recs = result.recommendations
    mine = recs[recs["customer_id"] == 999].sort_values("rank")
    assert list(mine["product_id"])[:1] == [11]  # 10 -> 11 is the strongest rule
    assert 21 in set(mine["product_id"])
    assert list(mine["rank"]) == list(range(1, len(mine) + 1))
    assert mine.iloc[0]["because"] == (10,)
    bought = set(zip(lines["customer_id"], lines["product_id"], strict=True))
    assert not any(
        (c, p) in bought for c, p in zip(recs["customer_id"], recs["product_id"], strict=True)
    )
    assert recs.groupby("customer_id").size().max() <= 3


def test_too_few_baskets_is_insufficient_data():
    with pytest.raises(InsufficientData) as exc:
        ar.run(_lines([[1, 2]] * 20))
    assert exc.value.code == "rules_baskets"
