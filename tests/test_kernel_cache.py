"""The kernels' Numba cache goes stale with any edit of the twin._kernel package.

Numba checks a cached function against its own source file only; a kernel has its callees
compiled in, so an edit of a callee's module must make its callers' cache stale too.
twin._kernel.caching stamps the cached kernel (the entry point; its callees are compiled into
it, uncached) with a hash of the whole package: checked here on the kernels themselves, and
end to end on a copy of the package with a caller and a callee in two of its modules, in
fresh processes (the stamp is taken when a kernel is defined).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

import twin._kernel
from twin._kernel import caching

KERNEL = Path(twin._kernel.__file__).parent
CALLEE = "from numba import njit\n\n\n@njit(cache=True)\ndef value():\n    return {}\n"
CALLER = ("from numba import njit\n\nfrom twin._kernel.toy_callee import value\n\n\n"
          "@njit(cache=True)\ndef twice():\n    return 2 * value()\n")
PROBE = ("from twin._kernel import loop, toy_caller\n"
         "print(toy_caller.twice(), sum(toy_caller.twice.stats.cache_misses.values()),"
         " loop.simulate_kernel._cache._cache_file._source_stamp)")


def _kernels() -> list[Dispatcher]:
    found = []
    for info in pkgutil.iter_modules(twin._kernel.__path__):
        module = importlib.import_module(f"twin._kernel.{info.name}")
        found += [v for v in vars(module).values()
                  if isinstance(v, Dispatcher) and v.py_func.__module__ == module.__name__]
    return found


def test_the_entry_point_is_cached_with_the_package_stamp_and_its_callees_are_not() -> None:
    """The callees' code lives in the entry point's cache: caching each of them as well only
    cost a cache locator per function at import (60 ms of every start) and a file each."""
    kernels = _kernels()
    assert len(kernels) > 100
    stamp = caching.package_stamp()
    cached = [k for k in kernels if isinstance(k._cache, FunctionCache)]
    assert [k.py_func.__name__ for k in cached] == ["simulate_kernel"]
    cache = cached[0]._cache
    assert isinstance(cache._impl.locator, caching.PackageLocator)
    assert cache._cache_file._source_stamp == stamp


def test_an_edit_anywhere_in_the_package_recompiles_the_callers(tmp_path: Path) -> None:
    package = tmp_path / "src" / "twin" / "_kernel"
    shutil.copytree(KERNEL, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package.parent / "__init__.py").write_text("")  # the kernels import nothing else of twin
    (package / "toy_callee.py").write_text(CALLEE.format(1))
    (package / "toy_caller.py").write_text(CALLER)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONDONTWRITEBYTECODE": "1"}  # a same-size edit within a second: no stale .pyc
    env.pop("NUMBA_CACHE_LOCATOR_CLASSES", None)

    def run() -> tuple[int, int, str]:
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True,
                             text=True, check=True, timeout=120).stdout.split()
        return int(out[0]), int(out[1]), out[2]

    value, compiled, stamp = run()
    assert (value, compiled) == (2, 1)
    assert run() == (2, 0, stamp)  # unchanged: loaded from the cache
    (package / "toy_callee.py").write_text(CALLEE.format(5))  # only the callee's module changes
    value, compiled, edited = run()
    assert (value, compiled) == (10, 1)  # Numba alone would load twice() with value() == 1 inside
    assert edited != stamp
    with open(package / "lines.py", "a") as f:  # a module neither of them uses
        f.write("# edited\n")
    value, compiled, again = run()
    assert (value, compiled) == (10, 1)
    assert again not in (stamp, edited)  # simulate_kernel's cache is stale too
