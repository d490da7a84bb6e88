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
  a fast path does the work: straight-line code with the weights of both axes
  in registers (no scratch, so that numba can prune the reference counts, see
  :mod:`tileblot._kernels._loop`). The general path clips and skips taps.
- The exact weights cost one ``sin`` and one ``cos`` per axis, not two ``sin``
  per tap. With ``s`` the fraction of the coordinate, pixel ``floor(v) + m``
  lies at ``u = s - m``, and ``sin(pi u) = (-1)^m sin(pi s)``; with
  ``a = pi s / n`` and ``b = pi / n``, ``sin(pi u / n) = sin(a) cos(m b) -
  cos(a) sin(m b)``, where ``cos(m b)``, ``sin(m b)`` are constants of the
  order; and ``sin(pi s) = sin(n a)`` is a polynomial in ``sin(a)``. Since
  ``L`` is even, the weights at ``s`` are those at ``1 - s`` in reverse order:
  the weights are computed for ``s <= 1/2`` only, where none of these steps
  cancels, so each weight is exact to a few float64 roundings. The angle
  ``a`` is then at most ``pi / 6``, where the Taylor polynomials of ``sin`` and
  ``cos`` are exact to float64 rounding and, unlike libm calls, inline.
"""

import math

import numpy as np
from numba import njit

from ._layout import LANCZOS_ORDER, LANCZOS_TABLE, SCRATCH_X, SCRATCH_Y, check_taps
from ._loop import blot_loop

LUT_SPACING = 0.003

check_taps("lan5", 2 * 5)

# Below this |pi u| the exact weight is its series 1 - (pi u)^2 (1 + 1/n^2) / 6,
# exact to double precision; the quotient form would underflow to 0 / 0.
_SERIES = 1e-5
_PI2 = math.pi * math.pi


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


def _rotations(order):
    """``(-1)^m cos(m pi / n)`` and ``(-1)^m sin(m pi / n)`` for taps ``m = 1 - n .. n``."""
    taps = range(1 - order, order + 1)
    return (tuple((-1.0) ** m * math.cos(m * math.pi / order) for m in taps),
            tuple((-1.0) ** m * math.sin(m * math.pi / order) for m in taps))


# Module-level tuples: numba compiles them in as constants.
_COS3, _SIN3 = _rotations(3)
_COS5, _SIN5 = _rotations(5)

# Taylor coefficients of sin (degrees 3 .. 15) and cos (degrees 2 .. 16). On the range the
# weights need, 0 <= a <= pi / 6, the terms left out are below 1e-19 (relative), so the
# polynomials are sin and cos to float64 rounding; unlike a libm call, they inline and
# overlap with the rest of the pixel's arithmetic (the calls were half of its time).
_SIN_TAYLOR = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(1, 8))
_COS_TAYLOR = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(1, 9))


@njit(inline="always")
def _sin_cos(a):
    """``sin(a)``, ``cos(a)`` for ``0 <= a <= pi / 6`` (Horner in ``a^2``)."""
    z = a * a
    s = _SIN_TAYLOR[6]
    s = s * z + _SIN_TAYLOR[5]
    s = s * z + _SIN_TAYLOR[4]
    s = s * z + _SIN_TAYLOR[3]
    s = s * z + _SIN_TAYLOR[2]
    s = s * z + _SIN_TAYLOR[1]
    s = s * z + _SIN_TAYLOR[0]
    c = _COS_TAYLOR[7]
    c = c * z + _COS_TAYLOR[6]
    c = c * z + _COS_TAYLOR[5]
    c = c * z + _COS_TAYLOR[4]
    c = c * z + _COS_TAYLOR[3]
    c = c * z + _COS_TAYLOR[2]
    c = c * z + _COS_TAYLOR[1]
    c = c * z + _COS_TAYLOR[0]
    return a + a * z * s, 1.0 + z * c


@njit(inline="always")
def _half_fraction(v, n):
    """``floor(v)`` (``v >= 0``), ``s`` folded into ``[0, 1/2]``, whether it was folded,
    ``sin(a)``, ``cos(a)`` with ``a = pi s / n``."""
    f = int(v)
    s = v - f
    flip = s > 0.5
    if flip:
        s = 1.0 - s  # exact (Sterbenz)
    sin_a, cos_a = _sin_cos(s * (math.pi / n))
    return f, s, flip, sin_a, cos_a


@njit(inline="always")
def _centre(s, sin_a, factor, n):
    """Weight of the tap at ``u = s`` (``m = 0``): the series where the quotient underflows."""
    pu = math.pi * s
    if pu < _SERIES:
        return 1.0 - pu * pu * (1.0 + 1.0 / (n * n)) / 6.0
    return factor * sin_a / (s * s)


@njit(inline="always")
def _tap(factor, sin_a, cos_a, c, sn, d):
    """``L(d)`` = ``n sin(pi d) sin(pi d / n) / (pi d)^2`` for a tap at distance ``d != 0``."""
    return factor * (sin_a * c - cos_a * sn) / (d * d)


@njit(inline="always")
def _exact6(v):
    """``floor(v)`` and the exact lan3 weights of pixels ``floor(v) - 2 .. floor(v) + 3``."""
    f, s, flip, sin_a, cos_a = _half_fraction(v, 3.0)
    sin_ps = sin_a * (3.0 - 4.0 * sin_a * sin_a)  # sin(3a)
    k = 3.0 * sin_ps / _PI2
    w0 = _tap(k, sin_a, cos_a, _COS3[0], _SIN3[0], s + 2.0)
    w1 = _tap(k, sin_a, cos_a, _COS3[1], _SIN3[1], s + 1.0)
    w2 = _centre(s, sin_a, k, 3.0)
    w3 = _tap(k, sin_a, cos_a, _COS3[3], _SIN3[3], s - 1.0)
    w4 = _tap(k, sin_a, cos_a, _COS3[4], _SIN3[4], s - 2.0)
    w5 = _tap(k, sin_a, cos_a, _COS3[5], _SIN3[5], s - 3.0)
    if flip:
        return f, (w5, w4, w3, w2, w1, w0)
    return f, (w0, w1, w2, w3, w4, w5)


@njit(inline="always")
def _exact10(v):
    """``floor(v)`` and the exact lan5 weights of pixels ``floor(v) - 4 .. floor(v) + 5``."""
    f, s, flip, sin_a, cos_a = _half_fraction(v, 5.0)
    q = sin_a * sin_a
    sin_ps = sin_a * (5.0 - q * (20.0 - 16.0 * q))  # sin(5a)
    k = 5.0 * sin_ps / _PI2
    w0 = _tap(k, sin_a, cos_a, _COS5[0], _SIN5[0], s + 4.0)
    w1 = _tap(k, sin_a, cos_a, _COS5[1], _SIN5[1], s + 3.0)
    w2 = _tap(k, sin_a, cos_a, _COS5[2], _SIN5[2], s + 2.0)
    w3 = _tap(k, sin_a, cos_a, _COS5[3], _SIN5[3], s + 1.0)
    w4 = _centre(s, sin_a, k, 5.0)
    w5 = _tap(k, sin_a, cos_a, _COS5[5], _SIN5[5], s - 1.0)
    w6 = _tap(k, sin_a, cos_a, _COS5[6], _SIN5[6], s - 2.0)
    w7 = _tap(k, sin_a, cos_a, _COS5[7], _SIN5[7], s - 3.0)
    w8 = _tap(k, sin_a, cos_a, _COS5[8], _SIN5[8], s - 4.0)
    w9 = _tap(k, sin_a, cos_a, _COS5[9], _SIN5[9], s - 5.0)
    if flip:
        return f, (w9, w8, w7, w6, w5, w4, w3, w2, w1, w0)
    return f, (w0, w1, w2, w3, w4, w5, w6, w7, w8, w9)


@njit(inline="always")
def _table_index(v, p):
    # drizzle: (size_t) (fabs((double) x - (double) i) / space), truncated.
    return int(abs(v - p) / LUT_SPACING)


@njit(nogil=True, cache=True)
def _table_weights(v, n, size, state, w, offset):
    """drizzle's weights for one axis into ``w[offset:]``; returns the first pixel and count.

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
            w[offset + count] = state[LANCZOS_TABLE + k]
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


@njit(nogil=True, cache=True)
def _table_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    """drizzle precision, any order, every case (edges, float32 bounds moved by rounding)."""
    n = state[LANCZOS_ORDER]
    xfirst, xcount = _table_weights(x, n, width, state, scratch, SCRATCH_X)
    yfirst, ycount = _table_weights(y, n, height, state, scratch, SCRATCH_Y)
    return _scratch_sum(patch, y0, x0, xfirst, xcount, yfirst, ycount, scratch)


@njit(inline="always")
def _clip(v, f, order, size, w, scratch, offset):
    """Taps of ``w`` (pixels ``f - n + 1 ..``) on the image and at ``|v - p| < n`` into
    ``scratch[offset:]``; returns the first pixel and the count."""
    first = -1
    count = 0
    for t in range(2 * order):
        p = f - order + 1 + t
        if 0 <= p < size and abs(v - p) < order:
            if first < 0:
                first = p
            scratch[offset + count] = w[t]
            count += 1
    return first, count


@njit(nogil=True, cache=True)
def _exact3_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    """Exact lan3, every case: the fast path's weights, clipped to the image."""
    fx, wx = _exact6(x)
    fy, wy = _exact6(y)
    xfirst, xcount = _clip(x, fx, 3, width, wx, scratch, SCRATCH_X)
    yfirst, ycount = _clip(y, fy, 3, height, wy, scratch, SCRATCH_Y)
    return _scratch_sum(patch, y0, x0, xfirst, xcount, yfirst, ycount, scratch)


@njit(nogil=True, cache=True)
def _exact5_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    """Exact lan5, every case: the fast path's weights, clipped to the image."""
    fx, wx = _exact10(x)
    fy, wy = _exact10(y)
    xfirst, xcount = _clip(x, fx, 5, width, wx, scratch, SCRATCH_X)
    yfirst, ycount = _clip(y, fy, 5, height, wy, scratch, SCRATCH_Y)
    return _scratch_sum(patch, y0, x0, xfirst, xcount, yfirst, ycount, scratch)


@njit(inline="always")
def _whole(x, y, height, width, order, drizzle):
    """Whether both axes have exactly the taps ``floor(v) - n + 1 .. floor(v) + n``, inside.

    drizzle's bounds are ``floorf(v - n) + 1`` and ``floorf(v + n)`` in float32,
    which rounding can move by one; then, and near the edges, the general path
    decides. (``v >= 0``, so truncation is the floor wherever it matters.) For
    exact weights the tap at distance ``n`` (``v`` an integer) is not read.
    """
    n = float(order)
    fx = int(x)
    fy = int(y)
    if fx < order - 1 or fx + order >= width or fy < order - 1 or fy + order >= height:
        return False
    if drizzle:
        return (
            int(np.float32(x - n)) == fx - order and int(np.float32(x + n)) == fx + order
            and int(np.float32(y - n)) == fy - order and int(np.float32(y + n)) == fy + order
        )
    return x > fx and y > fy and x + n < fx + order + 1 and y + n < fy + order + 1


# drizzle's table weights of a whole stencil, pixels p0 .. p0 + 2n - 1: their
# indices are at most floor(n / 0.003), inside the table. Kept in registers,
# with straight-line sums, like the exact weights of the fast path.


@njit(inline="always")
def _table6(v, p0, state):
    return (
        state[LANCZOS_TABLE + _table_index(v, p0)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 1)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 2)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 3)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 4)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 5)],
    )


@njit(inline="always")
def _table10(v, p0, state):
    return (
        state[LANCZOS_TABLE + _table_index(v, p0)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 1)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 2)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 3)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 4)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 5)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 6)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 7)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 8)],
        state[LANCZOS_TABLE + _table_index(v, p0 + 9)],
    )


@njit(inline="always")
def _row6(patch, r, c, w):
    return (
        patch[r, c] * w[0] + patch[r, c + 1] * w[1] + patch[r, c + 2] * w[2]
        + patch[r, c + 3] * w[3] + patch[r, c + 4] * w[4] + patch[r, c + 5] * w[5]
    )


@njit(inline="always")
def _row10(patch, r, c, w):
    return (
        patch[r, c] * w[0] + patch[r, c + 1] * w[1] + patch[r, c + 2] * w[2]
        + patch[r, c + 3] * w[3] + patch[r, c + 4] * w[4] + patch[r, c + 5] * w[5]
        + patch[r, c + 6] * w[6] + patch[r, c + 7] * w[7] + patch[r, c + 8] * w[8]
        + patch[r, c + 9] * w[9]
    )


@njit(inline="always")
def _sum6(patch, r, c, wx, wy):
    return (
        _row6(patch, r, c, wx) * wy[0] + _row6(patch, r + 1, c, wx) * wy[1]
        + _row6(patch, r + 2, c, wx) * wy[2] + _row6(patch, r + 3, c, wx) * wy[3]
        + _row6(patch, r + 4, c, wx) * wy[4] + _row6(patch, r + 5, c, wx) * wy[5]
    )


@njit(inline="always")
def _sum10(patch, r, c, wx, wy):
    return (
        _row10(patch, r, c, wx) * wy[0] + _row10(patch, r + 1, c, wx) * wy[1]
        + _row10(patch, r + 2, c, wx) * wy[2] + _row10(patch, r + 3, c, wx) * wy[3]
        + _row10(patch, r + 4, c, wx) * wy[4] + _row10(patch, r + 5, c, wx) * wy[5]
        + _row10(patch, r + 6, c, wx) * wy[6] + _row10(patch, r + 7, c, wx) * wy[7]
        + _row10(patch, r + 8, c, wx) * wy[8] + _row10(patch, r + 9, c, wx) * wy[9]
    )


@njit(inline="always")
def _tuple_sum(patch, r, c, wx, wy, taps):
    """``sum_b wy[b] sum_a wx[a] patch[r + b, c + a]`` as loops of fixed trip count, which
    LLVM unrolls: a fraction of the compile time of the straight-line sums."""
    acc = 0.0
    for b in range(taps):
        row = 0.0
        for a in range(taps):
            row += patch[r + b, c + a] * wx[a]
        acc += row * wy[b]
    return acc


@njit(inline="always")
def _table3_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole(x, y, height, width, 3, True):
        px = int(x) - 2
        py = int(y) - 2
        return True, _sum6(patch, py - y0, px - x0, _table6(x, px, state), _table6(y, py, state))
    return False, 0.0


@njit(inline="always")
def _table5_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole(x, y, height, width, 5, True):
        px = int(x) - 4
        py = int(y) - 4
        return True, _sum10(patch, py - y0, px - x0, _table10(x, px, state),
                            _table10(y, py, state))
    return False, 0.0


@njit(inline="always")
def _exact3_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole(x, y, height, width, 3, False):
        fx, wx = _exact6(x)
        fy, wy = _exact6(y)
        return True, _tuple_sum(patch, fy - 2 - y0, fx - 2 - x0, wx, wy, 6)
    return False, 0.0


@njit(inline="always")
def _exact5_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    if _whole(x, y, height, width, 5, False):
        fx, wx = _exact10(x)
        fy, wy = _exact10(y)
        return True, _tuple_sum(patch, fy - 4 - y0, fx - 4 - x0, wx, wy, 10)
    return False, 0.0


@njit(nogil=True, cache=True)
def blot_lan3_drizzle(patch, y0, x0, height, width, pixmap, out, fillval, iscale, state):
    blot_loop(_table3_point, _table_general, patch, y0, x0, height, width, pixmap, out,
              fillval, iscale, state, True)


@njit(nogil=True, cache=True)
def blot_lan3_high(patch, y0, x0, height, width, pixmap, out, fillval, iscale, state):
    blot_loop(_exact3_point, _exact3_general, patch, y0, x0, height, width, pixmap, out,
              fillval, iscale, state, False)


@njit(nogil=True, cache=True)
def blot_lan5_drizzle(patch, y0, x0, height, width, pixmap, out, fillval, iscale, state):
    blot_loop(_table5_point, _table_general, patch, y0, x0, height, width, pixmap, out,
              fillval, iscale, state, True)


@njit(nogil=True, cache=True)
def blot_lan5_high(patch, y0, x0, height, width, pixmap, out, fillval, iscale, state):
    blot_loop(_exact5_point, _exact5_general, patch, y0, x0, height, width, pixmap, out,
              fillval, iscale, state, False)
