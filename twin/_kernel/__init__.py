"""The fast engine's kernel: the SimPy engine's processes as a Numba state machine.

Sameness with `twin.engine_simpy` rests on reproducing SimPy's event order exactly:

- the event queue is a heap ordered by (time, priority, seq): priority URGENT (0) for a
  process start (SimPy's Initialize) and an interruption, NORMAL (1) for everything
  else; `seq` is a counter taken at each push, as SimPy's event id is taken at each
  `schedule`. Every place where the SimPy engine starts a process or yields an event
  is one push here, in the same order. (SimPy also schedules events nobody waits for,
  such as a finished process; those are no-ops and are not pushed: skipping them
  leaves the relative order of the others unchanged.)
- a timeout of `d` is due at `now + d` (that float expression, as SimPy computes it);
  a shift change at `t` is a timeout of `t - now`, hence due at `now + (t - now)`.
- `env.run(until=h)` stops before anything due at `h`: events due at or after the
  horizon never run.
- grants happen synchronously inside `request` and `dispatch` (twin.allocation), in
  request order; a waiting requester is woken by a NORMAL event at the grant time.
- an interrupted hold leaves its timeout in the queue; it is recognised as stale
  by its token (the seq of the push that a hold is waiting for).

Data layout (what makes it fast). The compiled twin enters as two flat arrays, `mi`
(int64) and `mf` (float64), built by `pack_twin`: a header of sizes and table offsets
(`M_*`), then fixed-width rows per arrival, activity, unit, pool and material and the
CSR lists. The live state is two flat arrays too, `si` (int64) and `sf` (float64), laid
out by `layout._layout`: counters and section offsets first (`C_*`, `K_*`, `S_*`), then
the fixed-size sections (units, pools, statistics, materials), then the growable ones
(event heap, entity table, FIFO lines, dispatch heap, deliveries, trace). Helpers take
these few plain arrays and scalars, so Numba calls (and LLVM inlines) them cheaply;
a tuple of many arrays costs a reference-count update per array per call. When the loop
sees that a growable section might not hold one more event's worth (`layout._room`),
`layout._grow` returns bigger arrays with every section copied over (memory follows what
is in the system, not the horizon).

Modules, each using only those above it (each one's docstring names its reference in the
SimPy engine):

- `caching`: Numba's cache, stamped with all the package's sources (imported first).
- `layout`: the packed twin and state constants, `pack_twin`, `_layout`, `_new_state`,
  `_room`, `_grow`.
- `rng`: raw pointers and Generators without reference counting, `rng_table`, `_sample`.
- `events`: event kinds, the heap, deferred grants, log and trace, levels and tallies.
- `pools`: units taken, released, failed, repaired, on duty.
- `triggers`: when contingency rules fire; stress factors.
- `blocking`: the lists of entities blocked before a full activity, letting one in.
- `lines`: FIFO lines (by priority level, then request order), grants, dispatch, requests,
  withdrawing, cancelling and requeueing a request.
- `shifts`: units on duty (shifts, absences, overtime).
- `failures`: unit failures and repairs.
- `stock`: reviews, deliveries, disruptions.
- `queueing`: turning away (full rooms, balking), patience and reneging, preemption,
  blocking after service and deadlocks.
- `entities`: visits, consumption, holds, interrupts, routing, leaving, arrivals (and their
  classes).
- `policies`: what stresses and contingency rules do.
- `loop`: the event handler and loop, state series, `simulate_kernel` (the one entry point).

The entry point alone is `@njit(cache=True)`, the rest plain `@njit`: Numba compiles the
callees into their callers whatever module they sit in (so the split costs no speed), and
the entry point's cache holds them all.
"""

from twin._kernel import caching  # noqa: F401  (first: the cache locator, before any kernel)
from twin._kernel.layout import LV_PER_POOL, M_NSTATE, pack_twin
from twin._kernel.loop import KERNEL_TYPES, simulate_kernel
from twin._kernel.rng import _sample, rng_table

__all__ = ["KERNEL_TYPES", "LV_PER_POOL", "M_NSTATE", "_sample", "pack_twin", "rng_table", "simulate_kernel"]
