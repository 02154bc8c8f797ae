"""Random variates: the SimPy engine's numpy Generators, drawn from inside the kernel.

`rng_table` lists what Numba needs of each Generator (the caller keeps them alive);
`_generator` rebuilds stream k of that table as a Numba Generator with no reference
counting, and `_data` gives an array's data pointer the same way (the hot loop passes
pointers, not arrays). `_sample` draws a duration as the distribution's `sample` does:
the same generator calls and float operations, so the numbers are bitwise the same.
Reference in the SimPy engine: twin.distributions (`sample` of each distribution),
twin.streams (the Generators).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from twin._kernel.layout import M_DCODE, M_DPAR, M_EMP_PTR, M_EMP_VAL


# -- raw access: no reference counting in the hot loop ------------------------------------
@intrinsic
def _data(typingctx, arr):
    """The data pointer of a C-contiguous array (the caller keeps the array alive)."""
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context, builder, sig, args):
        return context.make_array(sig.args[0])(context, builder, args[0]).data

    return sig, codegen


RNG_FIELDS = 6  # per stream: state_address, state, next_uint64, next_uint32, next_double, bit_generator
_GENERATOR = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")


@intrinsic
def _generator(typingctx, table, k):
    """Stream k of a `rng_table` (as a pointer) as a numba Generator, without reference
    counting: the fields numba's own unboxing reads from `bit_generator.ctypes`, and no
    meminfo (the Python Generators stay alive in the caller while the kernel runs)."""
    sig = _GENERATOR(table, k)

    def codegen(context, builder, sig, args):
        ptr, index = args
        base = builder.mul(index, ir.Constant(index.type, RNG_FIELDS))
        values = [builder.load(builder.gep(ptr, [builder.add(base, ir.Constant(index.type, j))]))
                  for j in range(RNG_FIELDS)]
        bits = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        bits.parent = cgutils.get_null_value(bits.parent.type)
        (bits.state_address, bits.state, bits.fnptr_next_uint64, bits.fnptr_next_uint32,
         bits.fnptr_next_double, bits.bit_generator) = values
        gen = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        gen.bit_generator = bits._getvalue()
        gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
        gen.parent = cgutils.get_null_value(gen.parent.type)
        return gen._getvalue()

    return sig, codegen


def rng_table(generators: list[np.random.Generator]) -> np.ndarray:
    """(n, RNG_FIELDS) uint64: what `_generator` needs of each Generator (keep them alive)."""
    rows = []
    for g in generators:
        c = g.bit_generator.ctypes
        rows.append((c.state_address, c.state.value, *_functions(g.bit_generator, c), c.bit_generator.value))
    return np.array(rows, dtype=np.uint64).reshape(-1, RNG_FIELDS)


_FUNCTIONS: dict[type, tuple[int, int, int]] = {}


def _functions(bit_generator: object, c: object) -> tuple[int, int, int]:
    """next_uint64, next_uint32, next_double of a bit generator type (the same C functions
    for every instance of the type)."""
    kind = type(bit_generator)
    if kind not in _FUNCTIONS:
        import ctypes

        _FUNCTIONS[kind] = tuple(  # type: ignore[assignment]
            ctypes.cast(getattr(c, name), ctypes.c_void_p).value for name in ("next_uint64", "next_uint32",
                                                                                 "next_double"))
    return _FUNCTIONS[kind]


# -- random variates (twin.distributions, same generator calls) ----------------------
@njit
def _sample(mi, mf, d, rng):
    code = mi[mi[M_DCODE] + d]
    q = mi[M_DPAR] + 3 * d
    if code == 0:
        return rng.exponential(mf[q])
    if code == 1:
        return rng.gamma(mf[q], mf[q + 1])
    if code == 2:
        return rng.lognormal(mf[q], mf[q + 1])
    if code == 3:
        while True:  # normal truncated at 0 by rejection
            x = rng.normal(mf[q], mf[q + 1])
            if x >= 0.0:
                return x
    if code == 4:
        return mf[q + 1] * rng.weibull(mf[q])
    if code == 5:
        return rng.uniform(mf[q], mf[q + 1])
    if code == 6:
        return rng.triangular(mf[q], mf[q + 1], mf[q + 2])
    if code == 7:
        return mf[q]
    lo, hi = mi[mi[M_EMP_PTR] + d], mi[mi[M_EMP_PTR] + d + 1]
    return mf[mi[M_EMP_VAL] + lo + int(rng.random() * (hi - lo))]
