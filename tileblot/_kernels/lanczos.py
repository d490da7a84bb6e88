"""Lanczos interpolation of order 3 and 5 (drizzle's ``lanczos3``, ``lanczos5``).

The kernel ``L(u) = sinc(u) sinc(u / n)`` is summed over the pixels
``floor(x) - n + 1 .. floor(x) + n`` clipped to the image; the weights are not
renormalised near the edges, as in drizzle.

``drizzle=True`` takes the weights from drizzle's look-up table (spacing
0.003, index truncated, float32 window bounds); ``drizzle=False`` evaluates
them exactly. The table is built once per call, outside the pixel loop, by
:func:`lanczos_state`.

Speed:

- The weights are separable, so each pixel computes ``2n`` weights per axis
  and sums ``sum_b wy[b] * sum_a wx[a] * data[b, a]``. The row sums are
  independent, which shortens the chain of dependent additions that drizzle's
  single running sum of ``(data * wx) * wy`` makes; the two differ by double
  rounding only.
- When the stencil is whole (``2n`` taps on both axes, all inside the image)
  a fast path for the literal order does the work (one pixel loop per order):
  straight-line code with the table weights in registers, or, for exact
  weights, loops of fixed trip count. The general path clips, skips and counts
  taps one by one.
- The exact weights need one ``sin`` and one ``sin``/``cos`` pair per axis,
  not two ``sin`` per tap: ``sin(pi (s - m)) = (-1)^m sin(pi s)``, and
  ``sin(pi (s - m) / n)`` follows by rotating the angle ``pi s / n`` by
  ``pi / n`` from tap to tap.
"""

import math

import numpy as np
from numba import njit

from ._loop import blot_loop

LUT_SPACING = 0.003

# Layout of the state array: order, cos(pi / order), sin(pi / order), table.
_ORDER, _COS, _SIN, _LUT = 0, 1, 2, 3

# Offsets in scratch of the x and y weights (each axis needs at most 2 * 5 + 1).
_XW, _YW = 0, 16

# Below this |pi u| the exact weight is its series 1 - (pi u)^2 (1 + 1/n^2) / 6,
# exact to double precision; the quotient form would underflow to 0 / 0.
_SERIES = 1e-5


def lanczos_state(order):
    """Build the constants of the Lanczos kernel of ``order`` (3 or 5).

    Parameters
    ----------
    order : int
        3 or 5.

    Returns
    -------
    numpy.ndarray
        float64: ``order``, ``cos(pi / order)``, ``sin(pi / order)`` (to step
        the exact weights from tap to tap), then drizzle's table
        ``lut[k] = L(k * 0.003)``, ``k = 0 .. ceil(order / 0.003)``.
    """
    nlut = math.ceil(order / LUT_SPACING) + 1
    u = np.arange(nlut) * LUT_SPACING
    with np.errstate(invalid="ignore", divide="ignore"):
        pu = np.pi * u
        lut = np.where(u <= order, np.sin(pu) * np.sin(pu / order) / (pu * (pu / order)), 0.0)
    lut[0] = 1.0
    step = np.pi / order
    return np.concatenate(([float(order), math.cos(step), math.sin(step)], lut))


@njit(inline="always")
def _exact_weight(pu, n, sines):
    """``L(u)`` from ``pu = pi |u|`` and ``sines = sin(pi u) sin(pi u / n)``."""
    if pu < _SERIES:
        return 1.0 - pu * pu * (1.0 + 1.0 / (n * n)) / 6.0
    return n * sines / (pu * pu)


@njit(inline="always")
def _rotation_start(s, n, state):
    """``sin(pi s)`` and ``sin, cos`` of ``a + (n - 1) b``, ``a = pi s / n``, ``b = pi / n``.

    Pixel ``floor(v) + m`` lies at ``u = s - m``; ``sin(pi u) sin(pi u / n)``
    (even in ``u``) is ``(-1)^m sin(pi s) sin(a - m b)``. The first tap is
    ``m = 1 - n``, whose angle ``a + pi - b`` has ``sin = sin(b - a)`` and
    ``cos = -cos(a - b)``.
    """
    a = math.pi * s / n
    sin_a = math.sin(a)
    cos_a = math.cos(a)
    cos_b = state[_COS]
    sin_b = state[_SIN]
    return (math.sin(math.pi * s), sin_b * cos_a - cos_b * sin_a,
            -(cos_a * cos_b + sin_a * sin_b))


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
    nlut = state.shape[0] - _LUT
    first = -1
    count = 0
    for p in range(lo, hi + 1):
        k = _table_index(v, p)
        if k < nlut:
            if first < 0:
                first = p
            w[offset + count] = state[_LUT + k]
            count += 1
    return first, count


@njit(nogil=True, cache=True)
def _exact_weights(v, n, size, state, w, offset):
    """Exact weights ``L(v - p)`` for one axis into ``w[offset:]``; returns first pixel and count.

    Only pixels with ``|v - p| < n`` count.
    """
    lo = max(math.floor(v - n) + 1, 0)
    hi = min(math.floor(v + n), size - 1)
    f = int(v)
    ni = int(n)
    sin_ps, sin_t, cos_t = _rotation_start(v - f, n, state)
    cos_b = state[_COS]
    sin_b = state[_SIN]
    sign = 1.0 if (ni - 1) % 2 == 0 else -1.0
    first = -1
    count = 0
    for m in range(1 - ni, ni + 1):
        p = f + m
        u = abs(v - p)
        if lo <= p <= hi and u < n:
            if first < 0:
                first = p
            w[offset + count] = _exact_weight(math.pi * u, n, sign * sin_ps * sin_t)
            count += 1
        # Step to m + 1: the angle a - m b decreases by b, the sign flips.
        sin_t, cos_t = sin_t * cos_b - cos_t * sin_b, cos_t * cos_b + sin_t * sin_b
        sign = -sign
    return first, count


@njit(nogil=True, cache=True)
def _lanczos_general(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    n = state[_ORDER]
    if drizzle:
        xfirst, xcount = _table_weights(x, n, width, state, scratch, _XW)
        yfirst, ycount = _table_weights(y, n, height, state, scratch, _YW)
    else:
        xfirst, xcount = _exact_weights(x, n, width, state, scratch, _XW)
        yfirst, ycount = _exact_weights(y, n, height, state, scratch, _YW)
    c = xfirst - x0
    acc = 0.0
    for b in range(ycount):
        r = yfirst + b - y0
        row = 0.0
        for a in range(xcount):
            row += window[r, c + a] * scratch[_XW + a]
        acc += row * scratch[_YW + b]
    return acc


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


@njit(inline="always")
def _exact_taps(v, f, order, state, w, offset):
    """Exact weights of pixels ``f - n + 1 .. f + n`` into ``w[offset:]`` (whole stencil)."""
    p0 = f - order + 1
    n = float(order)
    sin_ps, sin_t, cos_t = _rotation_start(v - f, n, state)
    cos_b = state[_COS]
    sin_b = state[_SIN]
    sign = 1.0 if (order - 1) % 2 == 0 else -1.0
    for t in range(2 * order):
        w[offset + t] = _exact_weight(math.pi * abs(v - (p0 + t)), n, sign * sin_ps * sin_t)
        sin_t, cos_t = sin_t * cos_b - cos_t * sin_b, cos_t * cos_b + sin_t * sin_b
        sign = -sign


@njit(inline="always")
def _exact_value(window, y0, x0, x, y, state, scratch, order):
    """Exact Lanczos of a whole stencil, weights in scratch."""
    fx = int(x)
    fy = int(y)
    _exact_taps(x, fx, order, state, scratch, _XW)
    _exact_taps(y, fy, order, state, scratch, _YW)
    r = fy - order + 1 - y0
    c = fx - order + 1 - x0
    acc = 0.0
    for b in range(2 * order):
        row = 0.0
        for a in range(2 * order):
            row += window[r + b, c + a] * scratch[_XW + a]
        acc += row * scratch[_YW + b]
    return acc


# drizzle's table weights of a whole stencil, pixels p0 .. p0 + 2n - 1: their
# indices are at most floor(n / 0.003), inside the table. Kept in registers,
# with straight-line sums, so that the drizzle fast path uses no scratch and
# its reference counts can be pruned (see the point contract in _loop).


@njit(inline="always")
def _table6(v, p0, state):
    return (
        state[_LUT + _table_index(v, p0)],
        state[_LUT + _table_index(v, p0 + 1)],
        state[_LUT + _table_index(v, p0 + 2)],
        state[_LUT + _table_index(v, p0 + 3)],
        state[_LUT + _table_index(v, p0 + 4)],
        state[_LUT + _table_index(v, p0 + 5)],
    )


@njit(inline="always")
def _table10(v, p0, state):
    return (
        state[_LUT + _table_index(v, p0)],
        state[_LUT + _table_index(v, p0 + 1)],
        state[_LUT + _table_index(v, p0 + 2)],
        state[_LUT + _table_index(v, p0 + 3)],
        state[_LUT + _table_index(v, p0 + 4)],
        state[_LUT + _table_index(v, p0 + 5)],
        state[_LUT + _table_index(v, p0 + 6)],
        state[_LUT + _table_index(v, p0 + 7)],
        state[_LUT + _table_index(v, p0 + 8)],
        state[_LUT + _table_index(v, p0 + 9)],
    )


@njit(inline="always")
def _row6(window, r, c, w):
    return (
        window[r, c] * w[0] + window[r, c + 1] * w[1] + window[r, c + 2] * w[2]
        + window[r, c + 3] * w[3] + window[r, c + 4] * w[4] + window[r, c + 5] * w[5]
    )


@njit(inline="always")
def _row10(window, r, c, w):
    return (
        window[r, c] * w[0] + window[r, c + 1] * w[1] + window[r, c + 2] * w[2]
        + window[r, c + 3] * w[3] + window[r, c + 4] * w[4] + window[r, c + 5] * w[5]
        + window[r, c + 6] * w[6] + window[r, c + 7] * w[7] + window[r, c + 8] * w[8]
        + window[r, c + 9] * w[9]
    )


@njit(inline="always")
def _lanczos3_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    if not _whole(x, y, height, width, 3, drizzle):
        return False, 0.0
    if not drizzle:
        return True, _exact_value(window, y0, x0, x, y, state, scratch, 3)
    px = int(x) - 2
    py = int(y) - 2
    wx = _table6(x, px, state)
    wy = _table6(y, py, state)
    r = py - y0
    c = px - x0
    return True, (
        _row6(window, r, c, wx) * wy[0] + _row6(window, r + 1, c, wx) * wy[1]
        + _row6(window, r + 2, c, wx) * wy[2] + _row6(window, r + 3, c, wx) * wy[3]
        + _row6(window, r + 4, c, wx) * wy[4] + _row6(window, r + 5, c, wx) * wy[5]
    )


@njit(inline="always")
def _lanczos5_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    if not _whole(x, y, height, width, 5, drizzle):
        return False, 0.0
    if not drizzle:
        return True, _exact_value(window, y0, x0, x, y, state, scratch, 5)
    px = int(x) - 4
    py = int(y) - 4
    wx = _table10(x, px, state)
    wy = _table10(y, py, state)
    r = py - y0
    c = px - x0
    return True, (
        _row10(window, r, c, wx) * wy[0] + _row10(window, r + 1, c, wx) * wy[1]
        + _row10(window, r + 2, c, wx) * wy[2] + _row10(window, r + 3, c, wx) * wy[3]
        + _row10(window, r + 4, c, wx) * wy[4] + _row10(window, r + 5, c, wx) * wy[5]
        + _row10(window, r + 6, c, wx) * wy[6] + _row10(window, r + 7, c, wx) * wy[7]
        + _row10(window, r + 8, c, wx) * wy[8] + _row10(window, r + 9, c, wx) * wy[9]
    )


@njit(nogil=True, cache=True)
def blot_lanczos(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    # One pixel loop per order: a literal order gives each its own straight-line
    # fast path, and no pixel tests the order.
    if state[_ORDER] == 3.0:
        blot_loop(_lanczos3_point, _lanczos_general, window, y0, x0, height, width, pixmap, out,
                  fillval, iscale, state, drizzle)
    else:
        blot_loop(_lanczos5_point, _lanczos_general, window, y0, x0, height, width, pixmap, out,
                  fillval, iscale, state, drizzle)
