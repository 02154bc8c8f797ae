"""Exact queueing and inventory formulas used as reference values in tests.

Everything here is closed-form (or a small exact linear solve); there is no
simulation code.  The simulation tests compare long-run estimates produced by
the "twin" engine against these values.

Conventions
-----------
* Rates (``arrival_rate``, ``demand_rate``) are events per unit time.
* Service is described by its *mean* (``mean_service``), so the service rate
  is ``mu = 1 / mean_service``.
* ``a = lambda * E[S]`` is the offered load in Erlangs and
  ``rho = a / c`` the per-server utilisation.
* All steady-state formulas require ``rho < 1`` and raise ``ValueError``
  otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from scipy.integrate import quad
from scipy.special import gamma as gamma_fn
from scipy.stats import poisson

__all__ = [
    "availability",
    "erlang_c",
    "jackson_arrival_rates",
    "jackson_mean_sojourn",
    "mg1_mean_wait",
    "mmc_mean_queue",
    "mmc_mean_wait",
    "sS_fill_rate",
    "sS_mean_on_hand",
    "sS_stockout_probability",
    "weibull_mean",
]

#: Routing key that means "leave the network".
EXIT = "exit"

#: Reserved key of the network-wide summary in ``jackson_mean_sojourn``.
NETWORK = "network"

_PROB_TOL = 1e-12


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


def _check_nonnegative(name: str, value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be non-negative and finite, got {value!r}")


# ---------------------------------------------------------------------------
# M/M/c
# ---------------------------------------------------------------------------


def _mmc_load(servers: int, arrival_rate: float, mean_service: float) -> tuple[float, float]:
    """Validate M/M/c parameters and return ``(a, rho)``; require ``rho < 1``."""
    if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    _check_nonnegative("arrival_rate", arrival_rate)
    _check_positive("mean_service", mean_service)
    a = arrival_rate * mean_service
    rho = a / servers
    if rho >= 1:
        raise ValueError(f"unstable queue: rho = {rho!r} >= 1")
    return a, rho


def erlang_c(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait.

    The textbook form ``C = [a^c/c! / (1-rho)] / [sum_{k<c} a^k/k! + a^c/c!/(1-rho)]``
    overflows for large ``c``.  Instead we use the Erlang B recursion

        B(0) = 1,   B(k) = a B(k-1) / (k + a B(k-1)),

    which only ever manipulates numbers in [0, 1], and then the identity

        C(c, a) = B(c, a) / (1 - rho (1 - B(c, a))).

    Raises ``ValueError`` unless ``rho = lambda * mean_service / servers < 1``.
    """
    a, rho = _mmc_load(servers, arrival_rate, mean_service)
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Mean time in queue (excluding service) for M/M/c: ``Wq = C(c, a) / (c mu - lambda)``."""
    c_prob = erlang_c(servers, arrival_rate, mean_service)
    mu = 1.0 / mean_service
    return c_prob / (servers * mu - arrival_rate)


def mmc_mean_queue(servers: int, arrival_rate: float, mean_service: float) -> float:
    """Mean number waiting in queue for M/M/c, by Little's law: ``Lq = lambda * Wq``."""
    return arrival_rate * mmc_mean_wait(servers, arrival_rate, mean_service)


# ---------------------------------------------------------------------------
# M/G/1
# ---------------------------------------------------------------------------


def mg1_mean_wait(arrival_rate: float, mean_service: float, sd_service: float) -> float:
    """Pollaczek-Khinchine mean wait in queue for M/G/1.

        Wq = lambda E[S^2] / (2 (1 - rho)),   E[S^2] = sd^2 + mean^2,  rho = lambda E[S].

    Only the first two moments of the service time matter.  Exponential
    service (``sd == mean``) gives the M/M/1 value ``rho / (mu - lambda)``;
    deterministic service (``sd == 0``) gives half of it.
    """
    _check_nonnegative("arrival_rate", arrival_rate)
    _check_positive("mean_service", mean_service)
    _check_nonnegative("sd_service", sd_service)
    rho = arrival_rate * mean_service
    if rho >= 1:
        raise ValueError(f"unstable queue: rho = {rho!r} >= 1")
    second_moment = sd_service**2 + mean_service**2
    return arrival_rate * second_moment / (2.0 * (1.0 - rho))


# ---------------------------------------------------------------------------
# Open Jackson networks
# ---------------------------------------------------------------------------


def jackson_arrival_rates(
    external: Mapping[str, float],
    routing: Mapping[str, Mapping[str, float]],
    nodes: Iterable[str] | None = None,
) -> dict[str, float]:
    """Solve the traffic equations of an open network.

        lambda_j = gamma_j + sum_i lambda_i p_ij      i.e.  (I - P^T) lambda = gamma

    ``external[j]`` is the external (Poisson) arrival rate ``gamma_j``;
    ``routing[i][j]`` is the probability that a job finishing at ``i`` goes
    next to ``j``.  Whatever probability of a row is not routed to a network
    node leaves the network: mass sent to the key ``"exit"``, to a node that
    is not part of the network, or simply missing (row sum < 1).

    The network's nodes are ``nodes`` if given (then routing targets outside
    it count as exits); otherwise every name appearing in ``external``,
    as a key of ``routing`` or as a routing target (except ``"exit"``), in
    first-seen order.  Nodes with no external arrivals and no inflow get rate 0.

    Raises ``ValueError`` for negative rates, invalid routing rows, or a
    routing matrix from which jobs can never leave (singular ``I - P^T``).
    """
    if nodes is None:
        names: list[str] = list(external)
        for src, row in routing.items():
            names.append(src)
            names.extend(row)
        names = [n for n in dict.fromkeys(names) if n != EXIT]
    else:
        names = list(dict.fromkeys(nodes))
        if EXIT in names:
            raise ValueError(f"{EXIT!r} is reserved and cannot be a node name")
        unknown = set(external) - set(names)
        if unknown:
            raise ValueError(f"external arrivals to unknown nodes: {sorted(unknown)}")

    index = {name: k for k, name in enumerate(names)}
    n = len(names)

    gamma = np.zeros(n)
    for name, rate in external.items():
        _check_nonnegative(f"external[{name!r}]", rate)
        gamma[index[name]] = rate

    # P[i, j] = probability of routing i -> j within the network.
    P = np.zeros((n, n))
    for src, row in routing.items():
        total = 0.0
        for dst, prob in row.items():
            if not (0.0 <= prob <= 1.0):
                raise ValueError(f"routing[{src!r}][{dst!r}] = {prob!r} is not a probability")
            total += prob
            if src in index and dst in index:
                P[index[src], index[dst]] += prob
        if total > 1.0 + _PROB_TOL:
            raise ValueError(f"routing[{src!r}] sums to {total!r} > 1")

    A = np.eye(n) - P.T
    # With a sub-stochastic P from which every node can reach the exit, the
    # spectral radius of P is < 1 and A is non-singular.  Otherwise some jobs
    # circulate forever and there is no steady state.
    if n and np.linalg.matrix_rank(A) < n:
        raise ValueError("routing matrix is closed: some jobs can never leave the network")
    rates = np.linalg.solve(A, gamma) if n else np.zeros(0)
    return {name: float(max(rates[k], 0.0)) for name, k in index.items()}


def jackson_mean_sojourn(
    external: Mapping[str, float],
    routing: Mapping[str, Mapping[str, float]],
    servers: Mapping[str, int],
    mean_service: Mapping[str, float],
) -> dict[str, dict[str, float]]:
    """Steady-state performance of an open Jackson network of M/M/c nodes.

    The network consists of the nodes in ``servers`` (which must have the same
    keys as ``mean_service``); routing to anything else leaves the network.
    By Jackson's product-form theorem each node behaves as an independent
    M/M/c queue with arrival rate ``lambda_j`` from the traffic equations.

    Returns, for every node ``j``::

        {"arrival_rate": lambda_j,
         "utilization":  lambda_j * E[S_j] / c_j,
         "mean_wait":    Wq_j   (M/M/c time in queue),
         "mean_number":  L_j = lambda_j * (Wq_j + E[S_j])}

    plus ``result["network"] = {"mean_number_in_system": sum_j L_j,
    "mean_time_in_system": sum_j L_j / sum_j gamma_j}`` (Little's law applied
    to the whole network).

    Raises ``ValueError`` if any node is unstable (utilization >= 1), if the
    key sets disagree, or if there are no external arrivals at all.
    """
    if set(servers) != set(mean_service):
        raise ValueError("servers and mean_service must have the same node names")
    if NETWORK in servers:
        raise ValueError(f"{NETWORK!r} is reserved and cannot be a node name")

    rates = jackson_arrival_rates(external, routing, nodes=servers)
    total_external = float(sum(external.values()))
    if total_external <= 0:
        raise ValueError("the network has no external arrivals")

    result: dict[str, dict[str, float]] = {}
    total_number = 0.0
    for name in servers:
        lam = rates[name]
        c = servers[name]
        es = mean_service[name]
        wq = mmc_mean_wait(c, lam, es)  # validates and raises if unstable
        number = lam * (wq + es)
        total_number += number
        result[name] = {
            "arrival_rate": lam,
            "utilization": lam * es / c,
            "mean_wait": wq,
            "mean_number": number,
        }
    result[NETWORK] = {
        "mean_number_in_system": total_number,
        "mean_time_in_system": total_number / total_external,
    }
    return result


# ---------------------------------------------------------------------------
# Reliability and distributions
# ---------------------------------------------------------------------------


def availability(mtbf: float, mttr: float) -> float:
    """Long-run fraction of time up for an alternating up/down renewal process.

    ``A = MTBF / (MTBF + MTTR)`` (renewal-reward theorem; holds for any
    up- and down-time distributions with these means).
    """
    _check_positive("mtbf", mtbf)
    _check_nonnegative("mttr", mttr)
    return mtbf / (mtbf + mttr)


def weibull_mean(shape: float, scale: float) -> float:
    """Mean of a Weibull(shape k, scale lambda) distribution: ``lambda * Gamma(1 + 1/k)``."""
    _check_positive("shape", shape)
    _check_positive("scale", scale)
    return float(scale * gamma_fn(1.0 + 1.0 / shape))


# ---------------------------------------------------------------------------
# Continuous-review (s, S) inventory with Poisson unit demand
# ---------------------------------------------------------------------------
#
# Model: unit demands arrive as a Poisson process of rate lambda; every unmet
# demand is backordered; whenever the inventory position (on hand + on order
# - backorders) drops to s an order of S - s units is placed, arriving after a
# constant lead time L.  In steady state the inventory position IP is uniform
# on {s+1, ..., S}, and since every order outstanding at time t has arrived by
# t+L, the net stock at t+L is IP(t) - D with D ~ Poisson(lambda L)
# independent of IP(t).  On-hand stock is max(net stock, 0).


def _sS_levels(s: int, S: int, demand_rate: float, lead_time: float) -> tuple[np.ndarray, float]:
    """Validate (s, S) parameters; return the IP support and the lead-time demand mean."""
    for name, value in (("s", s), ("S", S)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if s >= S:
        raise ValueError(f"need S > s, got s={s!r}, S={S!r}")
    _check_nonnegative("demand_rate", demand_rate)
    _check_nonnegative("lead_time", lead_time)
    levels = np.arange(int(s) + 1, int(S) + 1)  # equally likely values of IP
    return levels, demand_rate * lead_time


def sS_stockout_probability(s: int, S: int, demand_rate: float, lead_time: float) -> float:
    """Long-run probability that on-hand stock is zero (net stock <= 0).

        P(IP - D <= 0) = (1 / (S - s)) * sum_{y=s+1}^{S} P(D >= y),  D ~ Poisson(lambda L).

    For ``y <= 0`` the term is 1 (the position itself is not positive).
    """
    levels, mean_demand = _sS_levels(s, S, demand_rate, lead_time)
    # P(D >= y) = sf(y - 1); scipy gives sf(k) = 1 for k < 0, but be explicit.
    p_ge = np.where(levels <= 0, 1.0, poisson.sf(levels - 1, mean_demand))
    return float(p_ge.mean())


def sS_mean_on_hand(s: int, S: int, demand_rate: float, lead_time: float) -> float:
    """Long-run mean on-hand stock ``E[max(IP - D, 0)]``, averaged over IP as above.

    For each level ``y > 0``: ``E[(y - D)^+] = sum_{k=0}^{y-1} (y - k) P(D = k)``
    (a finite, exact sum); levels ``y <= 0`` contribute 0.
    """
    levels, mean_demand = _sS_levels(s, S, demand_rate, lead_time)
    top = int(levels.max())
    if top <= 0:
        return 0.0
    k = np.arange(top)
    pmf = poisson.pmf(k, mean_demand)
    total = 0.0
    for y in levels:
        if y > 0:
            total += float(np.dot(y - k[:y], pmf[:y]))
    return total / len(levels)


def sS_fill_rate(s: int, S: int, demand_rate: float, lead_time: float) -> float:
    """Fraction of unit demands that are met immediately from stock on hand.

    Demands arrive as a Poisson process, so by PASTA (Poisson Arrivals See
    Time Averages) an arriving demand finds the time-stationary state; a unit
    demand is filled iff on-hand stock is positive.  Hence

        fill rate = 1 - sS_stockout_probability(s, S, demand_rate, lead_time).
    """
    return 1.0 - sS_stockout_probability(s, S, demand_rate, lead_time)


# ---------------------------------------------------------------------------
# Priorities (Cobham) and birth-death chains (Erlang A, M/M/c/K, balking)
# ---------------------------------------------------------------------------


def cobham_waits(arrival_rates: Iterable[float], mean_service: Iterable[float],
                 second_moments: Iterable[float]) -> list[float]:
    """Mean wait in queue of each class of a non-preemptive priority M/G/1, classes in
    priority order: W_k = W0 / ((1 - s_{k-1}) (1 - s_k)), W0 = sum(lambda_i E[S_i^2]) / 2,
    s_k = sum of rho_i over classes 1..k (Cobham 1954)."""
    lams, means, seconds = list(arrival_rates), list(mean_service), list(second_moments)
    w0 = sum(lam * m2 for lam, m2 in zip(lams, seconds, strict=True)) / 2
    waits, sigma = [], 0.0
    for lam, mean in zip(lams, means, strict=True):
        before, sigma = sigma, sigma + lam * mean
        if sigma >= 1:
            raise ValueError(f"unstable: load {sigma!r} >= 1")
        waits.append(w0 / ((1 - before) * (1 - sigma)))
    return waits


def preemptive_resume_sojourns(arrival_rates: Iterable[float], mean_service: Iterable[float],
                               second_moments: Iterable[float]) -> list[float]:
    """Mean time in system of each class of a preemptive-resume priority M/G/1:
    T_k = E[S_k] / (1 - s_{k-1}) + R_k / ((1 - s_{k-1}) (1 - s_k)), R_k = sum_{i<=k}
    lambda_i E[S_i^2] / 2."""
    lams, means, seconds = list(arrival_rates), list(mean_service), list(second_moments)
    out, sigma, residual = [], 0.0, 0.0
    for lam, mean, m2 in zip(lams, means, seconds, strict=True):
        before, sigma = sigma, sigma + lam * mean
        residual += lam * m2 / 2
        if sigma >= 1:
            raise ValueError(f"unstable: load {sigma!r} >= 1")
        out.append(mean / (1 - before) + residual / ((1 - before) * (1 - sigma)))
    return out


def birth_death(births: Iterable[float], deaths: Iterable[float]) -> np.ndarray:
    """Stationary probabilities of a birth-death chain on 0..n from the birth rates of
    states 0..n-1 and the death rates of states 1..n (detailed balance)."""
    b, d = np.asarray(list(births), float), np.asarray(list(deaths), float)
    if b.size != d.size or np.any(d <= 0) or np.any(b < 0):
        raise ValueError("need as many positive death rates as non-negative birth rates")
    weights = np.concatenate([[1.0], np.cumprod(b / d)])
    return weights / weights.sum()


def erlang_a(servers: int, arrival_rate: float, mean_service: float, mean_patience: float,
             states: int = 2000) -> dict[str, float]:
    """M/M/c+M (Erlang A): the share of arrivals who abandon and the time-average queue.
    Death rate in state n: min(n, c) mu + max(n - c, 0) theta; truncated far out."""
    mu, theta = 1 / mean_service, 1 / mean_patience
    n = np.arange(1, states + 1)
    deaths = np.minimum(n, servers) * mu + np.maximum(n - servers, 0) * theta
    p = birth_death(np.full(states, arrival_rate), deaths)
    queue = float(np.dot(np.maximum(np.arange(states + 1) - servers, 0), p))
    return {"abandoned": theta * queue / arrival_rate, "queue_length": queue}


def mmck(servers: int, arrival_rate: float, mean_service: float, waiting_room: int,
         join: Sequence[float] = ()) -> dict[str, float]:
    """M/M/c with `waiting_room` places (and, optionally, the probability `join[k]` that an
    arrival finding k waiting joins; the last value for longer queues): the shares of
    arrivals lost (room full) and balking, and the time-average queue (PASTA)."""
    top = servers + waiting_room

    def joins(k: int) -> float:
        return join[min(k, len(join) - 1)] if join else 1.0
    births = [arrival_rate * (joins(k - servers) if k >= servers else 1.0) for k in range(top)]
    deaths = [min(k, servers) / mean_service for k in range(1, top + 1)]
    p = birth_death(births, deaths)
    balked = sum(p[k] * (1 - joins(k - servers)) for k in range(servers, top))
    queue = float(np.dot(np.maximum(np.arange(top + 1) - servers, 0), p))
    return {"lost": float(p[top]), "balked": float(balked), "queue_length": queue}


def tandem_blocking_throughput(arrival_rate: float, mean_service: tuple[float, float],
                               rooms: tuple[int, int]) -> float:
    """Throughput of two one-server stations in tandem with blocking after service: Poisson
    arrivals at station 1, lost when its waiting room (rooms[0] places) is full; a job done
    at station 1 that finds station 2 busy with rooms[1] waiting stays on station 1's server
    (blocking it) until a place frees. Solved as a continuous-time Markov chain on
    (n1 at station 1 incl. its server, station 1 blocked, n2 at station 2 incl. its server)."""
    lam = arrival_rate
    mu1, mu2 = 1 / mean_service[0], 1 / mean_service[1]
    k1, k2 = rooms
    states = [(n1, b, n2) for n1 in range(k1 + 2) for b in (0, 1) for n2 in range(k2 + 2)
              if not (b and (n1 == 0 or n2 < k2 + 1))]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (n1, b, n2), i in index.items():
        moves: list[tuple[tuple[int, int, int], float]] = []
        if n1 < k1 + 1:
            moves.append(((n1 + 1, b, n2), lam))
        if n1 >= 1 and not b:  # station 1 finishes: on to station 2, or blocked
            moves.append(((n1 - 1, 0, n2 + 1) if n2 < k2 + 1 else (n1, 1, n2), mu1))
        if n2 >= 1:  # station 2 finishes; a blocked job moves in behind
            moves.append(((n1 - 1, 0, n2) if b else (n1, 0, n2 - 1), mu2))
        for target, rate in moves:
            q[i, index[target]] += rate
            q[i, i] -= rate
    a = np.vstack([q.T, np.ones(len(states))])
    p = np.linalg.lstsq(a, np.concatenate([np.zeros(len(states)), [1.0]]), rcond=None)[0]
    return float(mu2 * sum(p[i] for (n1, b, n2), i in index.items() if n2 >= 1))


# ---------------------------------------------------------------------------
# Repair crews and preventive maintenance
# ---------------------------------------------------------------------------


def machine_repair(machines: int, mtbf: float, mttr: float, repairers: int) -> dict[str, float]:
    """The machine-repair (finite-source) model: `machines` units, each failing after an
    exponential uptime (mean `mtbf`) and repaired in an exponential time (mean `mttr`) by one of
    `repairers`, first failed first repaired. With n units down the chain goes up at
    (machines - n) / mtbf and down at min(n, repairers) / mttr. Returns the availability (mean
    share of units up), the mean number down, the repairers' utilisation and the mean wait of a
    failed unit for a repairer (Little: mean queue of waiting units / failure rate)."""
    for name, value in (("mtbf", mtbf), ("mttr", mttr)):
        _check_positive(name, value)
    n = np.arange(machines + 1)
    p = birth_death((machines - n[:-1]) / mtbf, np.minimum(n[1:], repairers) / mttr)
    down = float(p @ n)
    waiting = float(p @ np.maximum(n - repairers, 0))
    failure_rate = (machines - down) / mtbf
    return {"availability": 1 - down / machines, "down": down,
            "utilization": float(p @ np.minimum(n, repairers)) / repairers,
            "wait": waiting / failure_rate}


def age_replacement_availability(shape: float, scale: float, age: float, mean_repair: float,
                                 mean_maintenance: float) -> float:
    """Availability of a unit with Weibull(shape, scale) life, replaced preventively at `age`
    (a maintenance of mean `mean_maintenance`) or correctively at failure (a repair of mean
    `mean_repair`), as good as new after either. Renewal-reward: a cycle is up for min(X, age)
    and then down for a repair (X < age) or a maintenance, so A = E[min(X, T)] / (E[min(X, T)] +
    F(T) E[R] + (1 - F(T)) E[M]) with E[min(X, T)] the integral of the survival over [0, T]."""
    for name, value in (("shape", shape), ("scale", scale), ("age", age)):
        _check_positive(name, value)

    def survival(t: float) -> float:
        return math.exp(-((t / scale) ** shape))

    up, _ = quad(survival, 0.0, age)
    failed = 1.0 - survival(age)
    return up / (up + failed * mean_repair + (1 - failed) * mean_maintenance)


# ---------------------------------------------------------------------------
# Periodic review order-up-to (R, S) and lost sales with Poisson unit demand
# ---------------------------------------------------------------------------
#
# (R, S), backorders, constant lead time L: at each review the position is raised to S;
# everything ordered up to a review k has arrived by t_k + L and the next order arrives
# at t_k + R + L, so at t_k + L + u (0 <= u < R) the net stock is S - D(L + u), with
# D(x) ~ Poisson(lambda x) the demand since the review. Over a cycle u is uniform on [0, R).


def periodic_order_up_to(up_to: int, review: float, lead_time: float, demand_rate: float) -> dict[str, float]:
    """(R, S) with backorders: the long-run share of time with nothing on hand and the mean
    on hand, each the average over u ~ U[0, R) of P(D(L + u) >= S) and E[(S - D(L + u))^+],
    integrated numerically (scipy.integrate.quad)."""
    from scipy.integrate import quad

    _check_positive("review", review)
    _check_nonnegative("lead_time", lead_time)
    k = np.arange(up_to)

    def stockout(u: float) -> float:
        return float(poisson.sf(up_to - 1, demand_rate * (lead_time + u)))

    def on_hand(u: float) -> float:
        return float(np.dot(up_to - k, poisson.pmf(k, demand_rate * (lead_time + u))))

    return {"stockout_fraction": quad(stockout, 0.0, review)[0] / review,
            "inventory": quad(on_hand, 0.0, review)[0] / review}


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang's loss formula B(c, a) by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))."""
    _check_nonnegative("offered_load", offered_load)
    b = 1.0
    for n in range(1, servers + 1):
        b = offered_load * b / (n + offered_load * b)
    return b


def base_stock_lost_sales(up_to: int, lead_time_mean: float, demand_rate: float) -> dict[str, float]:
    """Continuous (S - 1, S) with lost sales: each accepted demand orders one unit, so the
    outstanding orders are an M/G/S/S loss system (insensitive to the lead-time law): a
    demand is lost with probability B(S, lambda E[L]) (PASTA: also the share of time with
    nothing on hand), and the mean on hand is S minus the mean outstanding orders."""
    a = demand_rate * lead_time_mean
    b = erlang_b(up_to, a)
    return {"lost_sales": b, "stockout_fraction": b, "fill_rate": 1.0 - b, "inventory": up_to - a * (1.0 - b)}
