"""Our BG/NBD and Gamma-Gamma reproduce the published estimates on the papers' own data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.jobs import clv

CDNOW = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(CDNOW)


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow):
    m = clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert m.r == pytest.approx(0.243, abs=0.001)
    assert m.alpha == pytest.approx(4.414, abs=0.002)
    assert m.a == pytest.approx(0.793, abs=0.001)
    assert m.b == pytest.approx(2.426, abs=0.002)
    assert m.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_bgnbd_conditional_expectation_matches_the_paper(cdnow):
    # FHL 2005, section 5: customer with x=2, t_x=30.43, T=38.86 expects 1.226 purchases
    # in the next 39 weeks.
    m = clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert float(m.expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=0.002)
    # Somebody who never came back is probably alive (no evidence of death under BG/NBD).
    assert float(m.p_alive(0, 0, 38.86)) == 1.0
    # A frequent buyer silent for a long time is probably gone.
    assert float(m.p_alive(10, 5, 38.86)) < 0.05


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow):
    g = clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    assert g.p == pytest.approx(6.25, abs=0.01)
    assert g.q == pytest.approx(3.74, abs=0.01)
    assert g.v == pytest.approx(15.44, abs=0.02)


def test_gamma_gamma_expectation_shrinks_toward_the_population_mean(cdnow):
    g = clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    population = g.p * g.v / (g.q - 1)
    one, many = g.expected_value(np.array([1, 50]), np.array([200.0, 200.0]))
    assert population < one < many < 200
    assert float(g.expected_value(0, np.nan)) == pytest.approx(population)
