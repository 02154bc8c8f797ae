"""Strict-FIFO allocation of several pools at once (resource units, material stock).

A request names amounts from one or more pools and is granted whole, never in part.
Each pool keeps its waiting requests in the order they were made; a request is granted
when it is first in line at every pool it needs and each has enough free. So a request
never overtakes an earlier one that shares a pool with it (no barging), but may pass one
that needs only other pools. Grants made together are made in request order. Both
engines follow this rule, so ties resolve the same way.

A request may also want one unit of any of several pools (`alternatives`, a skill that
several pools have). It waits in each of their lines and is granted, with its fixed needs,
by the first alternative, in the order given, where it is first in line and a unit is
free; it then leaves the other alternatives' lines. So whoever of those pools frees a unit
first serves the longest-waiting request it can serve.

Priorities: a request has a `level` (lower first, 0 by default). Lines are ordered by
(level, request order), so a request joins its lines behind every request of its level or
a lower one and in front of the others; with every level 0 that is plain FIFO. Requests
granted together are granted in that order too. A request may leave its lines unserved
(`withdraw`: it never waited; `cancel`: it gave up waiting, and what it blocked is
dispatched).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable

LEVEL_SHIFT = 40  # request keys: level << LEVEL_SHIFT + seq (up to 2**40 requests a replication)


def _enqueue(line: deque[Request], request: Request) -> None:
    """Place a request behind every request with a smaller key (at the end, without levels)."""
    if not line or line[-1].key < request.key:
        line.append(request)
        return
    i = len(line) - 1
    while i > 0 and line[i - 1].key > request.key:
        i -= 1
    line.insert(i, request)


class Request:
    __slots__ = ("alternatives", "chosen", "granted", "held", "key", "level", "made_at", "needs", "on_grant",
                 "seq")

    def __init__(self, needs: tuple[tuple[int, int], ...], made_at: float,
                 alternatives: tuple[int, ...] = (), level: int = 0) -> None:
        self.needs = needs  # (pool index, amount) pairs
        self.alternatives = alternatives  # one unit of one of these pools, besides `needs`
        self.chosen = -1  # the alternative granted
        self.made_at = made_at
        self.seq = 0  # order of the request, set by the allocator
        self.level = level  # priority: lower is served first
        self.key = 0  # (level, seq) as one integer: the request's place in every line
        self.granted = False
        self.held: list = []  # what the grant handed out (units), filled by `take`
        self.on_grant: Callable[[], None] | None = None  # set when the requester waits


class FifoAllocator:
    """Waiting lines per pool; `free[p]` is what pool p can hand out now.

    Invariant between calls: no waiting request could be granted. Whoever adds to
    `free` calls `dispatch` with the pools that grew.
    """

    def __init__(self, free: list[int], take: Callable[[Request], None]) -> None:
        self.free = free
        self.lines: list[deque[Request]] = [deque() for _ in free]
        self._take = take  # hands out the units/stock of a granted request
        self._made = 0

    def request(self, request: Request) -> bool:
        """Join the lines; True when the request was granted at once."""
        request.seq = self._made
        request.key = (request.level << LEVEL_SHIFT) + request.seq
        self._made += 1
        for p in self._pools(request):
            _enqueue(self.lines[p], request)
        if self._grantable(request):
            self._grant(request)
        return request.granted

    def requeue(self, request: Request) -> None:
        """A granted request that gave its units back (preempted) waits again at its old
        place (its key); the caller dispatches."""
        request.granted = False
        request.chosen = -1
        for p in self._pools(request):
            _enqueue(self.lines[p], request)

    def withdraw(self, request: Request) -> None:
        """Take a request that was not granted out of its lines (it turned away at once:
        nothing it blocked was grantable before it came, so nothing is dispatched)."""
        for p in self._pools(request):
            self.lines[p].remove(request)

    def cancel(self, request: Request) -> None:
        """A waiting request gives up: leave its lines, then grant what it held back."""
        self.withdraw(request)
        self.dispatch(self._pools(request))

    def waiting(self) -> int:
        return len({id(r) for line in self.lines for r in line})

    def dispatch(self, pools: Iterable[int]) -> None:
        """Grant, in request order, every request that has become first in all its lines."""
        heads = [(line[0].key, line[0]) for p in pools if (line := self.lines[p])]
        heapq.heapify(heads)
        while heads:
            _, request = heapq.heappop(heads)
            if request.granted or not self._grantable(request):
                continue
            self._grant(request)
            for p in self._pools(request):
                if line := self.lines[p]:
                    heapq.heappush(heads, (line[0].key, line[0]))

    @staticmethod
    def _pools(request: Request) -> list[int]:
        return [p for p, _ in request.needs] + list(request.alternatives)

    def _choice(self, request: Request) -> int:
        """The first alternative where the request is first in line and a unit is free."""
        return next((p for p in request.alternatives if self.lines[p][0] is request and self.free[p] > 0), -1)

    def _grantable(self, request: Request) -> bool:
        return (all(self.lines[p][0] is request and self.free[p] >= n for p, n in request.needs)
                and (not request.alternatives or self._choice(request) >= 0))

    def _grant(self, request: Request) -> None:
        for p, n in request.needs:
            self.lines[p].popleft()
            self.free[p] -= n
        if request.alternatives:
            request.chosen = self._choice(request)
            self.free[request.chosen] -= 1
            for p in request.alternatives:
                self.lines[p].remove(request)
        request.granted = True
        self._take(request)
        if request.on_grant is not None:
            request.on_grant()
