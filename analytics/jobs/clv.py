"""BG/NBD and Gamma-Gamma customer-value models, fitted by maximum likelihood with scipy.

Our own small module because lifetimes is unmaintained (it breaks on current pandas) and
pymc-marketing is far too heavy for a worker. The formulas are those of:

- Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2): the BG/NBD log-likelihood (eq. 6), the
  expected number of purchases in a future period (eq. 10) and P(alive) (eq. 11);
- Fader and Hardie (2013), "The Gamma-Gamma model of monetary value": the likelihood of the
  mean repeat-purchase value and its conditional expectation (eq. 5).

Inputs are per customer: x = number of repeat purchases, t_x = time of the last purchase and
T = time since the first purchase (both measured from the first purchase, in any unit, usually
weeks), and for Gamma-Gamma the mean value m_x of the x repeat purchases. Everything is
vectorised over customers; a fit at 100k customers takes well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1


class FitError(RuntimeError):
    """The optimiser did not converge to usable parameters."""


def _minimize(nll, start: np.ndarray):
    """L-BFGS-B on the log parameters (a few hundred likelihood evaluations); Nelder-Mead
    as a fallback when the gradient steps fail on an awkward surface."""
    res = minimize(nll, start, method="L-BFGS-B", options={"maxiter": 1000})
    if not res.success or not np.isfinite(res.fun):
        res = minimize(
            nll,
            start,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10},
        )
    return res


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def expected_purchases(self, t, x, t_x, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next `t` time units (FHL eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return head * body / (1 + _death_odds(self, x, t_x, T))

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(the customer is still active | x, t_x, T) (FHL eq. 11)."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        return 1 / (1 + _death_odds(self, x, t_x, T))


def _death_odds(m: BGNBD, x, t_x, T) -> np.ndarray:
    # a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x), zero for customers without repeat purchases.
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = m.a / (m.b + x - 1) * ((m.alpha + T) / (m.alpha + t_x)) ** (m.r + x)
    return np.where(x > 0, odds, 0.0)


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Each customer's log-likelihood under BG/NBD (FHL eq. 6), params = (r, alpha, a, b)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(x > 0, a4, -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(x, t_x, T, *, penalizer: float = 0.0) -> BGNBD:
    """Maximum-likelihood BG/NBD parameters; optimised on the log scale so they stay positive.

    `penalizer` adds an L2 penalty on the parameters (0 reproduces the paper; a small value
    keeps the fit stable on data with very few repeat buyers).
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    scale = max(float(np.mean(T)), 1e-9)  # alpha is in time units: start near the data's

    def nll(log_params):
        params = np.exp(log_params)
        ll = bgnbd_log_likelihood(params, x, t_x, T).sum()
        return -ll + penalizer * float(np.sum(params**2))

    start = np.log([1.0, scale, 1.0, 1.0])
    res = _minimize(nll, start)
    if not np.all(np.isfinite(res.x)):
        raise FitError("BG/NBD did not converge")
    r, alpha, a, b = np.exp(res.x)
    ll = float(bgnbd_log_likelihood((r, alpha, a, b), x, t_x, T).sum())
    return BGNBD(r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=ll)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float  # the paper's gamma (a scale), named v here as in lifetimes and the note
    log_likelihood: float

    def expected_value(self, x, m_x) -> np.ndarray:
        """E[M | x, m_x]: expected value of a future transaction (Fader and Hardie 2013, eq. 5).

        For customers without repeat purchases (x = 0) it is the population mean p*v/(q-1).
        """
        p, q, v = self.p, self.q, self.v
        x = np.asarray(x, dtype=float)
        m_x = np.nan_to_num(np.asarray(m_x, dtype=float))
        weight = p * x / (p * x + q - 1)
        return (1 - weight) * (v * p / (q - 1)) + weight * m_x


def gamma_gamma_log_likelihood(params, x, m_x) -> np.ndarray:
    p, q, v = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m_x)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m_x + v)
    )


def fit_gamma_gamma(x, m_x, *, penalizer: float = 0.0) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from customers with x > 0 and m_x > 0."""
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    keep = (x > 0) & (m_x > 0)
    x, m_x = x[keep], m_x[keep]
    if len(x) < 2:
        raise FitError("Gamma-Gamma needs customers with repeat purchases")

    def nll(log_params):
        params = np.exp(log_params)
        return -gamma_gamma_log_likelihood(params, x, m_x).sum() + penalizer * float(
            np.sum(params**2)
        )

    start = np.log([1.0, 1.0, max(float(np.mean(m_x)), 1e-6)])
    res = _minimize(nll, start)
    if not np.all(np.isfinite(res.x)):
        raise FitError("Gamma-Gamma did not converge")
    p, q, v = np.exp(res.x)
    ll = float(gamma_gamma_log_likelihood((p, q, v), x, m_x).sum())
    return GammaGamma(p=float(p), q=float(q), v=float(v), log_likelihood=ll)
