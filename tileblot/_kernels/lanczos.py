"""Lanczos interpolation of order 3 and 5 (drizzle's ``lanczos3``, ``lanczos5``).

The kernel ``L(u) = sinc(u) sinc(u / n)`` is summed over the pixels
``floor(x) - n + 1 .. floor(x) + n`` clipped to the image; the weights are not
renormalised near the edges, as in drizzle.

``drizzle=True`` takes the weights from drizzle's look-up table (spacing
0.003, index truncated, float32 window bounds); ``drizzle=False`` evaluates
them exactly. The table is built once per call, outside the pixel loop, by
:func:`lanczos_state`.
"""

import math

import numpy as np
from numba import njit

from ._loop import blot_loop

LUT_SPACING = 0.003


def lanczos_state(order):
    """Build drizzle's Lanczos look-up table for ``order`` (3 or 5).

    Returns a float64 array whose first element is the order and whose rest
    is the table, ``lut[k] = L(k * 0.003)``.
    """
    nlut = math.ceil(order / LUT_SPACING) + 1
    u = np.arange(nlut) * LUT_SPACING
    with np.errstate(invalid="ignore", divide="ignore"):
        pu = np.pi * u
        lut = np.where(u <= order, np.sin(pu) * np.sin(pu / order) / (pu * (pu / order)), 0.0)
    lut[0] = 1.0
    return np.concatenate(([float(order)], lut))


@njit(nogil=True, cache=True)
def _axis_weights(v, n, size, state, drizzle, w, offset):
    """Weights for one axis into ``w[offset:]``; returns the first pixel and count.

    Only pixels that contribute are counted: those with a table index inside
    the table (drizzle) or with ``|v - pixel| < n`` (exact).
    """
    if drizzle:
        lo = int(math.floor(np.float32(v - n))) + 1
        hi = int(math.floor(np.float32(v + n)))
    else:
        lo = int(math.floor(v - n)) + 1
        hi = int(math.floor(v + n))
    lo = max(lo, 0)
    hi = min(hi, size - 1)
    nlut = state.shape[0] - 1
    first = -1
    count = 0
    for p in range(lo, hi + 1):
        u = abs(v - p)
        if drizzle:
            k = int(u / LUT_SPACING)
            if k >= nlut:
                continue
            weight = state[1 + k]
        else:
            if u >= n:
                continue
            if u == 0.0:
                weight = 1.0
            else:
                pu = math.pi * u
                weight = n * math.sin(pu) * math.sin(pu / n) / (pu * pu)
        if first < 0:
            first = p
        w[offset + count] = weight
        count += 1
    return first, count


@njit(nogil=True, cache=True)
def _lanczos_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    n = state[0]
    xfirst, xcount = _axis_weights(x, n, width, state, drizzle, scratch, 0)
    yfirst, ycount = _axis_weights(y, n, height, state, drizzle, scratch, 32)
    acc = 0.0
    for b in range(ycount):
        wy = scratch[32 + b]
        r = yfirst + b - y0
        for a in range(xcount):
            # drizzle's order of operations: (data * wx) * wy, summed in double.
            acc += window[r, xfirst + a - x0] * scratch[a] * wy
    return acc


@njit(nogil=True, cache=True)
def blot_lanczos(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    blot_loop(_lanczos_point, window, y0, x0, height, width, pixmap, out, fillval, iscale, state,
              drizzle)
