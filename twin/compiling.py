"""Compile the fast engine once, with a word on screen: `python -m twin.compiling`.

The fast engine is one Numba kernel (twin._kernel.simulate_kernel, one specialisation), cached
on disk beside its source. scripts/setup.sh runs this module, so a new user's first `twin run`
loads it from the cache; a run that finds no cache (an edited kernel, a new Numba) says
"compiling the fast engine (once)…" with progress, from `announce`, rather than going quiet for
a minute.

    python -m twin.compiling [--quiet]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MESSAGE = "compiling the fast engine (once)…"


def kernel_functions() -> int:
    """How many Numba functions the kernel package defines (each is compiled into the kernel)."""
    from numba.core.registry import CPUDispatcher

    import twin._kernel as kernel

    modules = [m for name, m in sys.modules.items() if name.startswith(kernel.__name__ + ".")]
    return len({id(f) for m in modules for f in vars(m).values() if isinstance(f, CPUDispatcher)})


@contextmanager
def announce(show: bool = True) -> Iterator[None]:
    """Say MESSAGE on stderr, with a bar of the kernel's functions compiled so far and the
    time taken (Numba's compile events drive it), while the body compiles. The last step,
    LLVM optimising the whole kernel, takes most of the time."""
    from numba.core import event
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("functions"),
               TimeElapsedColumn())
    console = Console(stderr=True)
    if show and not console.is_terminal:  # a log: the word at once, the bar when done
        console.print(MESSAGE, highlight=False)
    with Progress(*columns, console=console, disable=not show) as bar:
        total = kernel_functions() + 1  # each function typed and compiled, then LLVM optimises the kernel
        task = bar.add_task(MESSAGE, total=total)

        def report(n: int) -> None:
            bar.update(task, completed=min(n, total - 1))
            if n == total - 1:
                bar.update(task, description=f"{MESSAGE} optimising")

        listener = _counter(report)
        event.register("numba:compile", listener)
        try:
            yield
        finally:
            event.unregister("numba:compile", listener)
            bar.update(task, completed=total, description=MESSAGE)


def _counter(report: Callable[[int], None]) -> Any:
    """A Numba event listener: `report(n)` as the n-th function's compilation ends."""
    from numba.core import event

    class Counter(event.Listener):
        done = 0

        def on_start(self, ev: Any) -> None:
            """Only ends count."""

        def on_end(self, ev: Any) -> None:
            self.done += 1
            report(self.done)

    return Counter()


def compile_all(show: bool = True) -> float:
    """Load or compile every kernel a user can reach; seconds spent compiling (0.0: cached)."""
    from twin import engine_fast

    return engine_fast.prepare(compiling=lambda: announce(show))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quiet = "--quiet" in args
    started = time.perf_counter()
    seconds = compile_all(show=not quiet)
    if not quiet:
        took = f"compiled in {seconds:.1f} s" if seconds else "already compiled (cached)"
        print(f"fast engine: {took}; loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
