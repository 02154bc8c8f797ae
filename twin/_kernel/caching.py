"""Numba's cache for this package: one source stamp for all of its modules.

Numba caches a compiled function beside its source file and checks the cache against
that one file (a hash of its content: `numba.core.caching._SourceFileBackedLocatorMixin`).
A kernel has its callees compiled into it, so with the kernels spread over several
modules, an edit of `lines.py` would leave the cached `loop.simulate_kernel`, with the old
`_grant` inside, looking fresh: a silently stale engine. `PackageLocator` closes that gap:
for a function defined in this package it is the locator Numba would have chosen (same
cache directory, same file names, NUMBA_CACHE_DIR respected) with the source stamp
replaced by `package_stamp()`, a hash of every .py file here; any edit anywhere in the
package makes every kernel's cache stale, as any edit of the single file did before.

Numba takes the stamp when `@njit(cache=True)` creates the dispatcher, so the locator
must be registered before any kernel module runs: the package's `__init__` imports this
module first (tests/test_kernel_cache.py checks that the cached entry point carries the stamp, and
that an edited callee recompiles its callers). Setting NUMBA_CACHE_LOCATOR_CLASSES
bypasses the registration (Numba then uses only the classes it names).

`by_type` loads a cached kernel for known argument types without Numba's dispatch path,
which would first refresh its registries for compiling (most of a cached start's time).
No counterpart in the SimPy engine.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from numba.core.caching import CacheImpl, _CacheLocator

PACKAGE = Path(__file__).resolve().parent


def package_stamp() -> str:
    """SHA-256 of the names and contents of the package's .py files (read again when a
    file is added or removed or its mtime or size changes)."""
    files = sorted(PACKAGE.glob("*.py"))
    return _hash(tuple((p.name, st.st_mtime_ns, st.st_size) for p in files for st in (p.stat(),)))


@functools.lru_cache(maxsize=16)
def _hash(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in files:
        data = (PACKAGE / name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


class PackageLocator(_CacheLocator):
    """Numba's own locator for a function of this package, stamped with `package_stamp()`."""

    package = PACKAGE

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> PackageLocator | None:
        if Path(py_file).resolve().parent != cls.package:
            return None
        others: list[Any] = CacheImpl._locator_classes
        for other in others:
            if getattr(other, "package", None) is None:  # Numba's (not a package's like this one)
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
        return None

    def ensure_cache_path(self) -> None:
        self._inner.ensure_cache_path()

    def get_cache_path(self) -> str:
        return str(self._inner.get_cache_path())

    def get_disambiguator(self) -> str:
        return str(self._inner.get_disambiguator())

    def get_source_stamp(self) -> str:
        return package_stamp()


def register() -> None:
    """Put `PackageLocator` first in the locators Numba tries (once per package path)."""
    classes: list[Any] = CacheImpl._locator_classes
    if not any(getattr(c, "package", None) == PACKAGE for c in classes):
        classes.insert(0, PackageLocator)


register()


def by_type(kernel: Any, signature: tuple[Any, ...]) -> bool:
    """Put `kernel`'s cached specialisation for these argument types on the dispatcher, as
    its first call would, minus the refresh of every Numba registry that only compiling needs
    (a third of a second: it imports Numba's whole NumPy support and SciPy's BLAS), except
    starting Numba's runtime (NRT), which the kernel's arrays need. Later
    calls with these types go straight to it. True when it was loaded (now or before);
    False when it is not in the cache and must be compiled."""
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import rtsys

    with global_compiler_lock:
        if tuple(signature) in kernel.overloads:
            return True
        rtsys.initialize(kernel.targetctx)  # the one part of the refresh a loaded kernel needs (NRT)
        cres = kernel._cache._load_overload(signature, kernel.targetctx)  # Dispatcher.compile's path
        if cres is None:
            return False
        kernel._cache_hits[signature] += 1
        kernel.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
        kernel.add_overload(cres)
        return True
