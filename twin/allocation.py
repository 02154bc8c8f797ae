"""Strict-FIFO allocation of several pools at once (resource units, material stock).

A request names amounts from one or more pools and is granted whole, never in part.
Requests are served in the order they were made; a request never overtakes an earlier,
still-waiting request that shares a pool with it (no barging), but may pass one that
needs only other pools. Both engines grant by this rule, so ties resolve the same way.
"""

from __future__ import annotations

from collections.abc import Callable


class Request:
    __slots__ = ("granted", "held", "made_at", "needs", "on_grant")

    def __init__(self, needs: tuple[tuple[int, int], ...], made_at: float) -> None:
        self.needs = needs  # (pool index, amount) pairs
        self.made_at = made_at
        self.granted = False
        self.held: list = []  # what the grant handed out (units), filled by `take`
        self.on_grant: Callable[[], None] | None = None  # set when the requester waits


class FifoAllocator:
    """Pending requests in arrival order; `free[p]` is what pool p can hand out now."""

    def __init__(self, free: list[int], take: Callable[[Request], None]) -> None:
        self.free = free
        self.pending: list[Request] = []
        self._take = take  # hands out the units/stock of a granted request

    def request(self, request: Request) -> bool:
        """Queue a request and dispatch; True when it was granted at once."""
        self.pending.append(request)
        if len(self.pending) == 1:
            self._try_head()
        else:
            self.dispatch()
        return request.granted

    def _try_head(self) -> None:
        request = self.pending[0]
        if all(self.free[p] >= n for p, n in request.needs):
            self.pending.pop()
            self._grant(request)

    def dispatch(self) -> None:
        """Grant every waiting request that FIFO order allows, in order."""
        blocked: set[int] = set()
        pools = len(self.free)
        i = 0
        while i < len(self.pending) and len(blocked) < pools:
            request = self.pending[i]
            needs = request.needs
            if all(p not in blocked and self.free[p] >= n for p, n in needs):
                del self.pending[i]
                self._grant(request)
            else:
                blocked.update(p for p, _ in needs)
                i += 1

    def _grant(self, request: Request) -> None:
        for p, n in request.needs:
            self.free[p] -= n
        request.granted = True
        self._take(request)
        if request.on_grant is not None:
            request.on_grant()
