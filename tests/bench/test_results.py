"""The benchmark's result logic: targets, PASS/MISS/N/A, percentiles and the output files."""

import json

import numpy as np
import pytest

from bench.pages import PAGES, page_rows, summarise
from bench.results import MISS, NA, PASS, Check, Row, fmt, percentile, text_table, write


def test_check_compares_measured_with_limit():
    assert Check("p95", "<", 100, 99.9, " ms").passed
    assert not Check("p95", "<", 100, 100.0, " ms").passed
    assert Check("share", ">=", 5, 5.0, "%").passed
    assert Check("errors", "==", 0, 0).passed
    assert not Check("errors", "==", 0, 3).passed


def test_a_figure_not_measured_never_passes():
    assert not Check("p95", "<", 100, None).passed
    assert not Check("p95", "<", 100, float("nan")).passed


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError):
        Check("x", "~", 1, 1)


def test_row_status():
    ok = Check("a", "<", 2, 1)
    bad = Check("b", "<", 2, 3)
    assert Row("s", "all met", checks=[ok, ok]).status == PASS
    assert Row("s", "one missed", checks=[ok, bad]).status == MISS
    assert Row("s", "not built", unavailable="URL does not resolve").status == NA
    # A row without any target has nothing to pass.
    assert Row("s", "no target", figures={"x": 1}).status == NA


def test_percentile_matches_numpy():
    data = [float(x) for x in np.random.default_rng(1).gamma(2.0, 30.0, size=501)]
    for q in (50, 95, 99):
        assert percentile(data, q) == pytest.approx(float(np.percentile(data, q)))
    assert percentile([], 95) is None
    assert percentile([7.0], 99) == 7.0


def test_fmt():
    assert fmt(1234567) == "1,234,567"
    assert fmt(0.01234) == "0.0123"
    assert fmt(12.345) == "12.3"
    assert fmt(None) == "-"


def test_summarise_times_the_window_after_warmup_and_counts_every_error():
    # 1 s of warm-up with slow requests, then 10 s of 10 ms requests, 10 per second.
    warm = [[100.0 + i / 10, 500.0, i != 3] for i in range(10)]
    timed = [[101.0 + i / 10, 10.0, True] for i in range(100)]
    fig = summarise(warm + timed, warmup=1.0)
    assert fig["p95"] == pytest.approx(10.0)
    assert fig["rps"] == pytest.approx(100 / (9.9 + 0.01), rel=1e-3)
    assert fig["errors"] == 1
    assert fig["requests"] == 110


def _page(kind="list"):
    return {"name": "customers", "path": "/customers/", "user": "rep", "kind": kind}


def test_page_that_does_not_resolve_is_na_with_its_reason_and_no_number():
    rows = page_rows(
        page=_page(),
        probe={"customers": {"resolves": False, "reason": "/customers/ does not resolve yet"}},
        runs={},
        baseline={},
    )
    assert [r.status for r in rows] == [NA]
    assert rows[0].figures == {}
    table = text_table(rows)
    assert "does not resolve yet" in table


def test_page_rows_apply_the_targets():
    probe = {"customers": {"resolves": True, "path": "/customers/", "queries": 5}}
    baseline = {4: {"rps": 1000.0}, 16: {"rps": 1000.0}}
    fast = {"rps": 60.0, "p50": 20.0, "p95": 80.0, "p99": 90.0, "errors": 0, "requests": 1200}
    slow = {**fast, "p95": 150.0}
    rows = page_rows(page=_page(), probe=probe, runs={4: slow, 16: fast}, baseline=baseline)
    # At 4 users only errors and throughput count; the p95 target is judged at 16.
    assert [r.status for r in rows] == [PASS, PASS]
    assert rows[1].figures["% of baseline"] == 6.0
    rows = page_rows(page=_page(), probe=probe, runs={16: slow}, baseline=baseline)
    assert rows[0].status == MISS
    # Dashboards get 200 ms.
    rows = page_rows(page=_page("dashboard"), probe=probe, runs={16: slow}, baseline=baseline)
    assert rows[0].status == PASS
    # Too little throughput, or any error, is a miss.
    thin = {**fast, "rps": 40.0}
    assert (
        page_rows(page=_page(), probe=probe, runs={16: thin}, baseline=baseline)[0].status == MISS
    )
    errs = {**fast, "errors": 1}
    assert (
        page_rows(page=_page(), probe=probe, runs={16: errs}, baseline=baseline)[0].status == MISS
    )


def test_page_list_is_data_with_known_kinds():
    assert PAGES[0]["kind"] == "baseline"
    assert {p["kind"] for p in PAGES} <= {"baseline", "list", "detail", "dashboard"}
    assert len({p["name"] for p in PAGES}) == len(PAGES)
    assert all(p["user"] in {"rep", "agent", "manager"} for p in PAGES)


def test_write_produces_json_and_markdown(tmp_path):
    rows = [
        Row("Pages", "list @16", figures={"p95 ms": 80.0}, checks=[Check("p95", "<", 100, 80.0)]),
        Row("Jobs", "churn", figures={"ratio": 2.0}, checks=[Check("ratio", "<=", 1.5, 2.0, "x")]),
        Row("Pages", "board", unavailable="/sales/deals/board/ does not resolve yet"),
    ]
    json_path, md_path = write(
        rows, directory=tmp_path, stem="scale-T", title="T", meta={"CPU": "test | 2 cores"}
    )
    data = json.loads(json_path.read_text())
    assert data["summary"] == {PASS: 1, MISS: 1, NA: 1}
    assert [r["status"] for r in data["rows"]] == [PASS, MISS, NA]
    assert data["rows"][0]["checks"][0]["passed"] is True
    md = md_path.read_text()
    assert "| list @16 | 80.0 | p95 < 100 | **PASS** |" in md
    assert "not available: /sales/deals/board/ does not resolve yet" in md
    assert "test \\| 2 cores" in md
    assert "- Jobs / churn: ratio 2.00x (target <= 1.50x)" in md
