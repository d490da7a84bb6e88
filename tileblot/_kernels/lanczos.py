"""Lanczos interpolation of order 3 and 5 (drizzle's ``lanczos3``, ``lanczos5``).

The kernel ``L(u) = sinc(u) sinc(u / n)`` is summed over the pixels
``floor(x) - n + 1 .. floor(x) + n`` clipped to the image; the weights are not
renormalised near the edges, as in drizzle.

Precision ``drizzle`` takes the weights from drizzle's look-up table (spacing
0.003, index truncated, float32 window bounds), built once per call, outside
the pixel loop, by :func:`lanczos_state`; ``high`` evaluates them exactly.
There is one entry point per order and precision, so a call compiles only its
own loop.

Speed:

- The weights are separable, so each pixel computes ``2n`` weights per axis
  and sums ``sum_b wy[b] * sum_a wx[a] * data[b, a]``. The row sums are
  independent, which shortens the chain of dependent additions that drizzle's
  single running sum of ``(data * wx) * wy`` makes; the two differ by double
  rounding only.
- When the stencil is whole (``2n`` taps on both axes, all inside the image)
  a fast path does the work: straight-line code in one branch (so that numba
  can prune the reference counts, see :mod:`tileblot._kernels._loop`), with
  the table weights of both axes in registers. The exact weights go through the
  block loop (``_loop.blot_block_loop``), which computes them a block of pixels
  at a time, vectorised; the sums read them from the scratch array. The
  general path clips and skips taps.
- The exact weights, their sums and their general path are in
  :mod:`tileblot._kernels._lanczos_exact`: one sine, one cosine and one
  division per axis, not two sines and a division per tap.
"""

import math

import numpy as np
from numba import njit

from ._jit import ENTRY, HELPER, INLINED
from ._lanczos_exact import (
    HIGH_FLAGS,
    block_general,
    block_sum6,
    block_sum10,
    prepare6,
    prepare10,
)
from ._layout import (
    LANCZOS_ORDER,
    LANCZOS_TABLE,
    SCRATCH_X,
    SCRATCH_Y,
    check_taps,
)
from ._loop import UNSIGNED as _U
from ._loop import blot_block_loop, blot_loop

LUT_SPACING = 0.003

# floor(v + 5) - floor(v - 5) pixels, each rounded to float32 as drizzle does: 11 where that
# rounds v + 5 up to an integer and v - 5 not (v = 1048580.96).
check_taps("lan5", 2 * 5 + 1)


def lanczos_state(order):
    """Build the constants of the Lanczos kernel of ``order`` (3 or 5).

    Parameters
    ----------
    order : int
        3 or 5.

    Returns
    -------
    numpy.ndarray
        float64: ``order``, then drizzle's table ``lut[k] = L(k * 0.003)``,
        ``k = 0 .. ceil(order / 0.003)`` (offsets in :mod:`tileblot._kernels._layout`).
    """
    nlut = math.ceil(order / LUT_SPACING) + 1
    u = np.arange(nlut) * LUT_SPACING
    with np.errstate(invalid="ignore", divide="ignore"):
        pu = np.pi * u
        lut = np.where(u <= order, np.sin(pu) * np.sin(pu / order) / (pu * (pu / order)), 0.0)
    lut[0] = 1.0
    state = np.empty(LANCZOS_TABLE + nlut)
    state[LANCZOS_ORDER] = order
    state[LANCZOS_TABLE:] = lut
    return state


@njit(inline="always")
def _table_index(v, p):
    # drizzle: (size_t) (fabs((double) x - (double) i) / space), truncated.
    return int(abs(v - p) / LUT_SPACING)


@njit(**HELPER)
def _table_weights(v, n, size, state, w):
    """drizzle's weights for one axis into ``w``; returns the first pixel and count.

    Only pixels whose table index falls inside the table count (and are read).
    """
    lo = max(math.floor(np.float32(v - n)) + 1, 0)
    hi = min(math.floor(np.float32(v + n)), size - 1)
    nlut = state.shape[0] - LANCZOS_TABLE
    first = -1
    count = 0
    for p in range(lo, hi + 1):
        k = _table_index(v, p)
        if k < nlut:
            if first < 0:
                first = p
            w[count] = state[LANCZOS_TABLE + k]
            count += 1
    return first, count


@njit(inline="always")
def _scratch_sum(patch, y0, x0, xfirst, xcount, yfirst, ycount, scratch):
    c = xfirst - x0
    acc = 0.0
    for b in range(ycount):
        r = yfirst + b - y0
        row = 0.0
        for a in range(xcount):
            row += patch[r, c + a] * scratch[SCRATCH_X + a]
        acc += row * scratch[SCRATCH_Y + b]
    return acc


@njit(**HELPER)
def _table_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    """drizzle precision, any order, every case (edges, float32 bounds moved by rounding)."""
    n = state[LANCZOS_ORDER]
    # Views, not offsets: a constant argument is typed as a literal, and each literal
    # would compile _table_weights once more.
    xfirst, xcount = _table_weights(x, n, width, state, scratch[SCRATCH_X:])
    yfirst, ycount = _table_weights(y, n, height, state, scratch[SCRATCH_Y:])
    return _scratch_sum(patch, y0, x0, xfirst, xcount, yfirst, ycount, scratch)


@njit(inline="always")
def _inside(x, y, height, width, order):
    """The floors of ``x``, ``y``, and whether the stencil from them lies inside.

    (``v >= 0``, so truncation is the floor wherever it matters.)
    """
    fx = int(x)
    fy = int(y)
    return fx, fy, not (fx < order - 1 or fx + order >= width or fy < order - 1
                        or fy + order >= height)


# Whether both axes have exactly the taps floor(v) - n + 1 .. floor(v) + n, inside: one
# function per precision (a literal flag would not spare numba typing the other's code).


@njit(**INLINED)
def _whole_table(x, y, height, width, order):
    """drizzle's bounds, ``floorf(v - n) + 1`` and ``floorf(v + n)`` in float32, which
    rounding can move by one: then, and near the edges, the general path decides."""
    n = float(order)
    fx, fy, inside = _inside(x, y, height, width, order)
    return inside and (
        int(np.float32(x - n)) == fx - order and int(np.float32(x + n)) == fx + order
        and int(np.float32(y - n)) == fy - order and int(np.float32(y + n)) == fy + order
    )


@njit(**INLINED)
def _whole_exact(x, y, height, width, order):
    """Exact weights: the tap at distance ``n`` (``v`` an integer) is not read."""
    n = float(order)
    fx, fy, inside = _inside(x, y, height, width, order)
    return inside and x > fx and y > fy and x + n < fx + order + 1 and y + n < fy + order + 1


# drizzle's table weights of a whole stencil, pixels p0 .. p0 + 2n - 1: their
# indices are at most floor(n / 0.003), inside the table. Kept in registers. Each
# index is _table_index written out: every inlined call costs numba a copy and a
# new typing of the callee's code, the bulk of an entry point's compile time.


@njit(inline="always")
def _table6(v, p0, state):
    t = np.uint64(LANCZOS_TABLE)
    return (
        state[t + np.uint64(abs(v - p0) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 1)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 2)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 3)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 4)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 5)) / LUT_SPACING)],
    )


@njit(inline="always")
def _table10(v, p0, state):
    t = np.uint64(LANCZOS_TABLE)
    return (
        state[t + np.uint64(abs(v - p0) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 1)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 2)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 3)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 4)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 5)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 6)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 7)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 8)) / LUT_SPACING)],
        state[t + np.uint64(abs(v - (p0 + 9)) / LUT_SPACING)],
    )


# drizzle's order of additions, exactly: each row a running sum, then a running sum of
# row * wy over the rows. The rows go in a loop of fixed trip count (LLVM unrolls it)
# whose sum starts from -0.0, which adds exactly (x + -0.0 is x, signed zeros included):
# the operations are those of one straight-line expression, and numba types one row,
# not 2n + 1. (Rows written as loops as well ran lan5 8-15% slower, measured.)


# Unsigned indices into the window, never negative here (see _loop).


@njit(inline="always")
def _row6(patch, r, c, w):
    return (
        patch[r, c] * w[0] + patch[r, c + _U[1]] * w[1] + patch[r, c + _U[2]] * w[2]
        + patch[r, c + _U[3]] * w[3] + patch[r, c + _U[4]] * w[4] + patch[r, c + _U[5]] * w[5]
    )


@njit(inline="always")
def _row10(patch, r, c, w):
    return (
        patch[r, c] * w[0] + patch[r, c + _U[1]] * w[1] + patch[r, c + _U[2]] * w[2]
        + patch[r, c + _U[3]] * w[3] + patch[r, c + _U[4]] * w[4] + patch[r, c + _U[5]] * w[5]
        + patch[r, c + _U[6]] * w[6] + patch[r, c + _U[7]] * w[7] + patch[r, c + _U[8]] * w[8]
        + patch[r, c + _U[9]] * w[9]
    )


@njit(inline="always")
def _sum6(patch, r, c, wx, wy):
    r, c = np.uint64(r), np.uint64(c)
    acc = -0.0
    for b in range(6):
        acc += _row6(patch, r + np.uint64(b), c, wx) * wy[b]
    return acc


@njit(inline="always")
def _sum10(patch, r, c, wx, wy):
    r, c = np.uint64(r), np.uint64(c)
    acc = -0.0
    for b in range(10):
        acc += _row10(patch, r + np.uint64(b), c, wx) * wy[b]
    return acc


@njit(inline="always")
def _table3_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole_table(x, y, height, width, 3):
        # The axes in a loop (LLVM unrolls it): numba types the table look-ups once.
        wx = wy = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        r = c = 0
        for axis in range(2):
            v = x if axis == 0 else y
            p0 = int(v) - 2
            w = _table6(v, p0, state)
            if axis == 0:
                wx, c = w, p0 - x0
            else:
                wy, r = w, p0 - y0
        return True, _sum6(patch, r, c, wx, wy)
    return False, 0.0


@njit(inline="always")
def _table5_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole_table(x, y, height, width, 5):
        # As _table3_point.
        wx = wy = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        r = c = 0
        for axis in range(2):
            v = x if axis == 0 else y
            p0 = int(v) - 4
            w = _table10(v, p0, state)
            if axis == 0:
                wx, c = w, p0 - x0
            else:
                wy, r = w, p0 - y0
        return True, _sum10(patch, r, c, wx, wy)
    return False, 0.0


@njit(inline="always")
def _exact3_point(patch, y0, x0, height, width, x, y, k, state, drizzle, scratch):
    # The weights of pixel k of the block, in the order of its pixels (prepare6).
    if _whole_exact(x, y, height, width, 3):
        return True, block_sum6(patch, int(y) - 2 - y0, int(x) - 2 - x0, scratch, k)
    return False, 0.0


@njit(inline="always")
def _exact5_point(patch, y0, x0, height, width, x, y, k, state, drizzle, scratch):
    # As _exact3_point (prepare10).
    if _whole_exact(x, y, height, width, 5):
        return True, block_sum10(patch, int(y) - 4 - y0, int(x) - 4 - x0, scratch, k)
    return False, 0.0


@njit(**ENTRY)
def blot_lan3_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                      state, scratch):
    blot_loop(_table3_point, _table_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY, fastmath=HIGH_FLAGS)
def blot_lan3_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                   state, scratch):
    blot_block_loop(prepare6, _exact3_point, block_general, patch, y0, x0, height, width,
                    pixmap, j0, i0, out, fillval, iscale, state, scratch, False)


@njit(**ENTRY)
def blot_lan5_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                      state, scratch):
    blot_loop(_table5_point, _table_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY, fastmath=HIGH_FLAGS)
def blot_lan5_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                   state, scratch):
    blot_block_loop(prepare10, _exact5_point, block_general, patch, y0, x0, height, width,
                    pixmap, j0, i0, out, fillval, iscale, state, scratch, False)
