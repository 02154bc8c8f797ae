"""Checks of the reference formulas in ``tests/theory.py``.

Each formula is compared with an independently known textbook value or an
independent exact computation (direct factorial sums, a truncated CTMC,
distribution convolutions, scipy moments).  All comparisons are exact
arithmetic up to floating point, hence the tight tolerance.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import null_space

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory

REL = 1e-9


def approx(value: float) -> object:
    return pytest.approx(value, rel=REL, abs=1e-12)


# ---------------------------------------------------------------------------
# Independent helpers
# ---------------------------------------------------------------------------


def erlang_c_direct(c: int, a: Fraction) -> Fraction:
    """Erlang C by the textbook factorial-sum formula, in exact rationals."""
    rho = a / c
    tail = a**c / math.factorial(c) / (1 - rho)
    head = sum(a**k / math.factorial(k) for k in range(c))
    return tail / (head + tail)


def mmc_lq_ctmc(c: int, lam: float, mu: float, cap: int = 2000) -> float:
    """Lq of M/M/c from the birth-death chain truncated at ``cap`` customers."""
    # Unnormalised stationary probabilities via detailed balance, in log space.
    logp = np.zeros(cap + 1)
    for n in range(1, cap + 1):
        logp[n] = logp[n - 1] + math.log(lam) - math.log(min(n, c) * mu)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    n = np.arange(cap + 1)
    return float(np.dot(np.maximum(n - c, 0), p))


def poisson_pmf_direct(k: int, mean: float) -> float:
    """Poisson pmf from its definition (in log space to avoid overflow)."""
    if mean == 0:
        return 1.0 if k == 0 else 0.0
    return math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))


# ---------------------------------------------------------------------------
# Erlang C / M/M/c
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lam, es", [(0.1, 1.0), (0.5, 1.0), (0.9, 1.0), (3.0, 0.25), (0.0, 2.0)])
def test_erlang_c_single_server_equals_rho(lam: float, es: float) -> None:
    assert theory.erlang_c(1, lam, es) == approx(lam * es)


def test_mmc_textbook_c2_lambda1_mu1() -> None:
    assert theory.erlang_c(2, 1.0, 1.0) == approx(1 / 3)
    assert theory.mmc_mean_wait(2, 1.0, 1.0) == approx(1 / 3)
    assert theory.mmc_mean_queue(2, 1.0, 1.0) == approx(1 / 3)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 13, 30, 60])
@pytest.mark.parametrize(
    "rho", [Fraction(1, 10), Fraction(1, 2), Fraction(9, 10), Fraction(99, 100)]
)
def test_erlang_c_matches_factorial_sum(c: int, rho: Fraction) -> None:
    a = rho * c
    expected = float(erlang_c_direct(c, a))
    # arrival_rate = a, mean_service = 1
    assert theory.erlang_c(c, float(a), 1.0) == approx(expected)
    # same load expressed with a different time unit
    assert theory.erlang_c(c, float(a) * 4.0, 0.25) == approx(expected)


def test_erlang_c_large_c_is_finite() -> None:
    value = theory.erlang_c(2000, 1900.0, 1.0)
    assert 0.0 < value < 1.0


@pytest.mark.parametrize("lam, es", [(0.3, 1.0), (0.8, 1.0), (5.0, 0.1), (0.95, 1.0)])
def test_mm1_mean_wait(lam: float, es: float) -> None:
    mu = 1 / es
    rho = lam / mu
    assert theory.mmc_mean_wait(1, lam, es) == approx(rho / (mu - lam))
    assert theory.mmc_mean_queue(1, lam, es) == approx(rho**2 / (1 - rho))


@pytest.mark.parametrize(
    "c, lam, es", [(2, 1.5, 1.0), (3, 2.0, 1.0), (4, 7.0, 0.5), (10, 8.0, 1.0)]
)
def test_mmc_queue_matches_truncated_ctmc(c: int, lam: float, es: float) -> None:
    expected = mmc_lq_ctmc(c, lam, 1 / es)
    assert theory.mmc_mean_queue(c, lam, es) == approx(expected)
    assert theory.mmc_mean_wait(c, lam, es) == approx(expected / lam)  # Little


@pytest.mark.parametrize("c, lam, es", [(1, 1.0, 1.0), (2, 3.0, 1.0), (3, 1.0, 3.0)])
def test_mmc_unstable_raises(c: int, lam: float, es: float) -> None:
    with pytest.raises(ValueError):
        theory.erlang_c(c, lam, es)
    with pytest.raises(ValueError):
        theory.mmc_mean_wait(c, lam, es)
    with pytest.raises(ValueError):
        theory.mmc_mean_queue(c, lam, es)


@pytest.mark.parametrize("c, lam, es", [(0, 0.5, 1.0), (1, -0.1, 1.0), (1, 0.5, 0.0)])
def test_mmc_invalid_parameters_raise(c: int, lam: float, es: float) -> None:
    with pytest.raises(ValueError):
        theory.erlang_c(c, lam, es)


# ---------------------------------------------------------------------------
# Pollaczek-Khinchine
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lam, es", [(0.2, 1.0), (0.7, 1.0), (4.0, 0.2), (0.99, 1.0)])
def test_pk_exponential_service_is_mm1(lam: float, es: float) -> None:
    assert theory.mg1_mean_wait(lam, es, es) == approx(theory.mmc_mean_wait(1, lam, es))


@pytest.mark.parametrize("lam, es", [(0.2, 1.0), (0.7, 1.0), (4.0, 0.2)])
def test_pk_deterministic_service_is_md1(lam: float, es: float) -> None:
    mu = 1 / es
    rho = lam * es
    assert theory.mg1_mean_wait(lam, es, 0.0) == approx(rho / (2 * mu * (1 - rho)))


def test_pk_uses_scipy_second_moment() -> None:
    # Gamma(k=2.5, scale=0.3) service: E[S^2] from scipy, independently.
    dist = stats.gamma(a=2.5, scale=0.3)
    lam = 1.1
    rho = lam * dist.mean()
    expected = lam * dist.moment(2) / (2 * (1 - rho))
    assert theory.mg1_mean_wait(lam, dist.mean(), dist.std()) == approx(expected)


def test_pk_unstable_raises() -> None:
    with pytest.raises(ValueError):
        theory.mg1_mean_wait(1.0, 1.0, 0.5)


# ---------------------------------------------------------------------------
# Jackson networks
# ---------------------------------------------------------------------------


def test_jackson_tandem_rates() -> None:
    rates = theory.jackson_arrival_rates({"A": 0.7}, {"A": {"B": 1.0}, "B": {"exit": 1.0}})
    assert rates == {"A": approx(0.7), "B": approx(0.7)}


def test_jackson_tandem_terminal_node_without_routing_row() -> None:
    rates = theory.jackson_arrival_rates({"A": 0.7}, {"A": {"B": 1.0}})
    assert rates == {"A": approx(0.7), "B": approx(0.7)}


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_jackson_single_node_feedback_rate(p: float) -> None:
    lam = 0.3
    routing = {"Q": {"Q": p, "exit": 1 - p}}
    assert theory.jackson_arrival_rates({"Q": lam}, routing)["Q"] == approx(lam / (1 - p))
    # leftover mass (no explicit "exit") also leaves
    assert theory.jackson_arrival_rates({"Q": lam}, {"Q": {"Q": p}})["Q"] == approx(lam / (1 - p))


def test_jackson_routing_outside_network_leaves() -> None:
    # "sink" is not a node of the network, so mass routed to it leaves.
    rates = theory.jackson_arrival_rates(
        {"A": 1.0}, {"A": {"B": 0.5, "sink": 0.5}, "B": {"A": 0.5}}, nodes=["A", "B"]
    )
    # lambda_A = 1 + 0.5 lambda_B, lambda_B = 0.5 lambda_A -> lambda_A = 4/3
    assert rates == {"A": approx(4 / 3), "B": approx(2 / 3)}


def test_jackson_three_node_network_by_hand() -> None:
    # Classic textbook-style example solved by hand:
    #   l1 = 1 + 0.2 l3
    #   l2 = 2 + 0.5 l1
    #   l3 = 0.5 l1 + 0.6 l2
    # => l1 = 1 + 0.2(0.5 l1 + 0.6(2 + 0.5 l1)) = 1.24 + 0.16 l1 -> l1 = 1.24/0.84
    external = {"n1": 1.0, "n2": 2.0}
    routing = {
        "n1": {"n2": 0.5, "n3": 0.5},
        "n2": {"n3": 0.6, "exit": 0.4},
        "n3": {"n1": 0.2, "exit": 0.8},
    }
    l1 = 1.24 / 0.84
    l2 = 2 + 0.5 * l1
    l3 = 0.5 * l1 + 0.6 * l2
    rates = theory.jackson_arrival_rates(external, routing)
    assert rates == {"n1": approx(l1), "n2": approx(l2), "n3": approx(l3)}
    # flow conservation: total external inflow = total outflow
    outflow = 0.4 * l2 + 0.8 * l3
    assert outflow == approx(3.0)


def test_jackson_closed_routing_raises() -> None:
    with pytest.raises(ValueError):
        theory.jackson_arrival_rates({"A": 1.0}, {"A": {"B": 1.0}, "B": {"A": 1.0}})


def test_jackson_bad_row_raises() -> None:
    with pytest.raises(ValueError):
        theory.jackson_arrival_rates({"A": 1.0}, {"A": {"B": 0.7, "exit": 0.7}})


def test_jackson_tandem_mm1_sojourn() -> None:
    lam, es_a, es_b = 0.5, 1.0, 1.5
    result = theory.jackson_mean_sojourn(
        {"A": lam}, {"A": {"B": 1.0}}, servers={"A": 1, "B": 1}, mean_service={"A": es_a, "B": es_b}
    )
    for name, es in (("A", es_a), ("B", es_b)):
        mu = 1 / es
        rho = lam / mu
        node = result[name]
        assert node["arrival_rate"] == approx(lam)
        assert node["utilization"] == approx(rho)
        assert node["mean_wait"] == approx(rho / (mu - lam))
        assert node["mean_number"] == approx(rho / (1 - rho))
    expected_time = 1 / (1 / es_a - lam) + 1 / (1 / es_b - lam)
    net = result["network"]
    assert net["mean_time_in_system"] == approx(expected_time)
    assert net["mean_number_in_system"] == approx(lam * expected_time)


@pytest.mark.parametrize("p", [0.0, 0.25, 0.6])
def test_jackson_feedback_mm1_sojourn(p: float) -> None:
    lam, es = 0.2, 1.0
    result = theory.jackson_mean_sojourn(
        {"Q": lam}, {"Q": {"Q": p, "exit": 1 - p}}, servers={"Q": 1}, mean_service={"Q": es}
    )
    eff = lam / (1 - p)
    rho = eff * es
    big_l = rho / (1 - rho)
    assert result["Q"]["arrival_rate"] == approx(eff)
    assert result["Q"]["mean_number"] == approx(big_l)
    assert result["network"]["mean_time_in_system"] == approx(big_l / lam)
    # Equivalent view: expected 1/(1-p) visits, each of mean sojourn 1/(mu - eff).
    assert result["network"]["mean_time_in_system"] == approx(1 / (1 - p) / (1 / es - eff))


def test_jackson_multi_server_node_matches_mmc() -> None:
    result = theory.jackson_mean_sojourn(
        {"A": 3.0}, {"A": {"B": 0.5}}, servers={"A": 4, "B": 2}, mean_service={"A": 1.0, "B": 1.0}
    )
    assert result["A"]["mean_wait"] == approx(theory.mmc_mean_wait(4, 3.0, 1.0))
    assert result["B"]["arrival_rate"] == approx(1.5)
    assert result["B"]["mean_wait"] == approx(theory.mmc_mean_wait(2, 1.5, 1.0))
    total = result["A"]["mean_number"] + result["B"]["mean_number"]
    assert result["network"]["mean_number_in_system"] == approx(total)
    assert result["network"]["mean_time_in_system"] == approx(total / 3.0)


def test_jackson_unstable_node_raises() -> None:
    with pytest.raises(ValueError):
        theory.jackson_mean_sojourn(
            {"Q": 0.6}, {"Q": {"Q": 0.5}}, servers={"Q": 1}, mean_service={"Q": 1.0}
        )


# ---------------------------------------------------------------------------
# Availability and Weibull mean
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("mtbf, mttr", [(100.0, 5.0), (1.0, 1.0), (37.5, 0.25), (10.0, 0.0)])
def test_availability_matches_two_state_ctmc(mtbf: float, mttr: float) -> None:
    up = stats.expon(scale=mtbf).mean()
    down = stats.expon(scale=mttr).mean() if mttr > 0 else 0.0
    assert theory.availability(mtbf, mttr) == approx(up / (up + down))
    if mttr > 0:
        # Stationary distribution of the up/down CTMC with exponential times.
        q = np.array([[-1 / mtbf, 1 / mtbf], [1 / mttr, -1 / mttr]])
        pi = null_space(q.T)[:, 0]
        pi = pi / pi.sum()
        assert theory.availability(mtbf, mttr) == approx(pi[0])


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 2.0, 3.7, 10.0])
@pytest.mark.parametrize("scale", [0.1, 1.0, 250.0])
def test_weibull_mean_matches_scipy(shape: float, scale: float) -> None:
    assert theory.weibull_mean(shape, scale) == approx(stats.weibull_min(shape, scale=scale).mean())


def test_weibull_mean_special_cases() -> None:
    assert theory.weibull_mean(1.0, 3.0) == approx(3.0)  # exponential
    assert theory.weibull_mean(2.0, 1.0) == approx(math.sqrt(math.pi) / 2)  # Rayleigh-type


# ---------------------------------------------------------------------------
# (s, S) inventory
# ---------------------------------------------------------------------------


def sS_bruteforce(s: int, S: int, rate: float, lead: float, kmax: int = 400) -> tuple[float, float]:
    """(stockout probability, mean on hand) by explicit enumeration of (IP, D)."""
    mean = rate * lead
    stockout = 0.0
    on_hand = 0.0
    weight = 1.0 / (S - s)
    for ip in range(s + 1, S + 1):
        for k in range(kmax):
            p = weight * poisson_pmf_direct(k, mean)
            net = ip - k
            if net <= 0:
                stockout += p
            else:
                on_hand += p * net
    return stockout, on_hand


def sS_convolution(s: int, S: int, rate: float, lead: float, kmax: int = 400) -> np.ndarray:
    """Distribution of net stock IP - D as an array over net = S - index."""
    mean = rate * lead
    d_pmf = np.array([poisson_pmf_direct(k, mean) for k in range(kmax)])
    ip_pmf = np.full(S - s, 1.0 / (S - s))  # IP = S, S-1, ..., s+1 (descending)
    return np.convolve(ip_pmf, d_pmf)  # index i <-> net stock S - i


SS_CASES = [
    (2, 10, 1.0, 3.0),
    (0, 5, 0.5, 2.0),
    (5, 6, 2.0, 2.5),  # base stock S = 6
    (-3, 4, 1.0, 1.0),  # reorder point below zero
    (-10, -2, 1.0, 1.0),  # never any stock on hand
    (20, 50, 4.0, 5.0),
    (3, 8, 1.0, 0.0),  # zero lead time
]


@pytest.mark.parametrize("s, S, rate, lead", SS_CASES)
def test_sS_matches_bruteforce(s: int, S: int, rate: float, lead: float) -> None:
    stockout, on_hand = sS_bruteforce(s, S, rate, lead)
    assert theory.sS_stockout_probability(s, S, rate, lead) == approx(stockout)
    assert theory.sS_mean_on_hand(s, S, rate, lead) == approx(on_hand)
    assert theory.sS_fill_rate(s, S, rate, lead) == approx(1 - stockout)


@pytest.mark.parametrize("s, S, rate, lead", SS_CASES)
def test_sS_matches_convolution(s: int, S: int, rate: float, lead: float) -> None:
    dist = sS_convolution(s, S, rate, lead)
    net = S - np.arange(dist.size)
    assert theory.sS_stockout_probability(s, S, rate, lead) == approx(dist[net <= 0].sum())
    assert theory.sS_mean_on_hand(s, S, rate, lead) == approx(
        float(np.dot(np.maximum(net, 0), dist))
    )


def test_sS_base_stock_closed_form() -> None:
    # S - s = 1: IP is constant S, so stockout = P(D >= S).
    S, mean = 4, 3.0
    expected = 1 - sum(poisson_pmf_direct(k, mean) for k in range(S))
    assert theory.sS_stockout_probability(S - 1, S, 1.0, mean) == approx(expected)


def test_sS_zero_lead_time_exact() -> None:
    # No lead-time demand: net stock = IP, uniform on {s+1..S}.
    # IP in {-1, 0, 1, 2, 3}: two of five levels have no stock on hand.
    assert theory.sS_stockout_probability(-2, 3, 1.0, 0.0) == approx(2 / 5)
    assert theory.sS_mean_on_hand(-2, 3, 1.0, 0.0) == approx((1 + 2 + 3) / 5)


def test_sS_high_stock_mean_on_hand_is_linear() -> None:
    # If stockouts are negligible, E[on hand] = E[IP] - lambda L = (s+1+S)/2 - lambda L.
    s, S, rate, lead = 60, 80, 2.0, 5.0
    assert theory.sS_stockout_probability(s, S, rate, lead) < 1e-12
    assert theory.sS_mean_on_hand(s, S, rate, lead) == approx((s + 1 + S) / 2 - rate * lead)


@pytest.mark.parametrize("s, S", [(5, 5), (6, 3)])
def test_sS_invalid_levels_raise(s: int, S: int) -> None:
    with pytest.raises(ValueError):
        theory.sS_stockout_probability(s, S, 1.0, 1.0)
    with pytest.raises(ValueError):
        theory.sS_mean_on_hand(s, S, 1.0, 1.0)


# ---------------------------------------------------------------------------
# Periodic review (R, S) and lost sales
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("S, R, L, lam", [(8, 4.0, 3.0, 1.0), (3, 1.0, 0.0, 2.0), (20, 7.0, 2.5, 1.5)])
def test_periodic_stockout_matches_the_gamma_closed_form(S: int, R: float, L: float, lam: float) -> None:
    """P(Poisson(m) >= S) is the Gamma(S) cdf at m, whose integral is m G_S(m) - S G_{S+1}(m)."""
    def integral(m: float) -> float:
        return m * stats.gamma.cdf(m, S) - S * stats.gamma.cdf(m, S + 1)

    exact = (integral(lam * (L + R)) - integral(lam * L)) / (lam * R)
    assert theory.periodic_order_up_to(S, R, L, lam)["stockout_fraction"] == pytest.approx(exact, rel=1e-8)


def test_periodic_on_hand_matches_a_riemann_sum() -> None:
    S, R, L, lam = 8, 4.0, 3.0, 1.0
    u = (np.arange(400) + 0.5) / 400 * R  # midpoints
    k = np.arange(S)
    on_hand = np.mean([np.dot(S - k, [poisson_pmf_direct(int(j), lam * (L + x)) for j in k]) for x in u])
    assert theory.periodic_order_up_to(S, R, L, lam)["inventory"] == pytest.approx(on_hand, rel=1e-5)


def test_periodic_with_no_demand_keeps_everything() -> None:
    assert theory.periodic_order_up_to(5, 2.0, 1.0, 0.0) == {"stockout_fraction": 0.0, "inventory": 5.0}


@pytest.mark.parametrize("c, a", [(1, 0.5), (3, 2.0), (5, 3.0), (10, 7.5)])
def test_erlang_b_matches_the_factorial_sum_and_mmck(c: int, a: float) -> None:
    direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
    assert theory.erlang_b(c, a) == approx(direct)
    assert theory.mmck(c, a, 1.0, 0)["lost"] == approx(direct)


def test_base_stock_lost_sales_on_hand_is_s_minus_the_carried_load() -> None:
    exact = theory.base_stock_lost_sales(5, 3.0, 1.0)
    b = theory.erlang_b(5, 3.0)
    assert exact["lost_sales"] == approx(b) and exact["fill_rate"] == approx(1 - b)
    p = theory.birth_death([1.0] * 5, [k / 3.0 for k in range(1, 6)])  # outstanding orders, M/M/5/5
    assert exact["inventory"] == approx(float(np.dot(5 - np.arange(6), p)))
