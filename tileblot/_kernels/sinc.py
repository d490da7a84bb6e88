"""Tapered sinc interpolation, 15 points per axis, separable.

drizzle's ``sinc`` blot was defective (NaN or wrong values, not even exact at
integer positions) and drizzle 3.0 removed it. This one follows the
definition that code meant to implement:

- ``n = floor(x + 0.5)`` is the nearest pixel and ``d = x - n``;
- the weight of pixel ``n + k``, ``k = -7 .. 7``, is proportional to
  ``T(k) / (sinscl * d - k)`` with the taper
  ``T(k) = (-1)^k (1 + a2 z + a4 z^2)^2``, ``z = (pi k / 14)^2``,
  ``a2 = -0.49670``, ``a4 = 0.03705``; the weights are normalised to sum 1;
- when ``|sinscl * d| < 1e-3`` the axis takes pixel ``n`` alone, and when
  ``sinscl * d`` is another integer ``m`` (possible for ``sinscl != 1``), the
  limit of the formula: pixel ``n + m`` alone;
- pixels beyond the image repeat the edge pixel.
"""

import math

import numpy as np
from numba import njit

from ._jit import ENTRY, HELPER
from ._layout import SCRATCH_X, SCRATCH_Y, SINC_SCALE, SINC_TAPER, check_taps
from ._loop import blot_loop

NSINC = 7
A2 = -0.49670
A4 = 0.03705
EXACT = 1e-3

check_taps("sinc", 2 * NSINC + 1)


def sinc_state(sinscl):
    """``[sinscl, T(-7), ..., T(7)]`` as a float64 array (offsets in ``_layout``)."""
    k = np.arange(-NSINC, NSINC + 1, dtype=np.float64)
    z = (np.pi * k / (2 * NSINC)) ** 2
    state = np.empty(SINC_TAPER + k.size)
    state[SINC_SCALE] = float(sinscl)
    state[SINC_TAPER:] = (-1.0) ** np.abs(k) * (1.0 + A2 * z + A4 * z * z) ** 2
    return state


@njit(**HELPER)
def _axis_weights(v, state, w):
    """Weights of pixels ``n - 7 .. n + 7`` into ``w``.

    Returns ``n`` and the range of taps that contribute (only the centre one
    when the position is exact, so that no other pixel is read).
    """
    n = math.floor(v + 0.5)
    sd = state[SINC_SCALE] * (v - n)
    if abs(sd) < EXACT:
        w[NSINC] = 1.0
        return n, NSINC, NSINC + 1
    if sd == math.floor(sd) and abs(sd) <= NSINC:
        # sd hits a tap exactly (sinscl * d an integer): in the limit that tap
        # takes all the weight, where the formula would divide by zero.
        k = int(sd) + NSINC
        w[k] = 1.0
        return n, k, k + 1
    total = 0.0
    for k in range(2 * NSINC + 1):
        weight = state[SINC_TAPER + k] / (sd - (k - NSINC))
        w[k] = weight
        total += weight
    for k in range(2 * NSINC + 1):
        w[k] /= total
    return n, 0, 2 * NSINC + 1


@njit(inline="always")
def _sinc_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    # Every coordinate takes the general path: sinc is dominated by its
    # arithmetic, not by the call.
    return False, 0.0


@njit(**HELPER)
def _sinc_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    # Views, not offsets: each constant argument would compile _axis_weights once more.
    nx, alo, ahi = _axis_weights(x, state, scratch[SCRATCH_X:])
    ny, blo, bhi = _axis_weights(y, state, scratch[SCRATCH_Y:])
    acc = 0.0
    for b in range(blo, bhi):
        wy = scratch[SCRATCH_Y + b]
        row = min(max(ny - NSINC + b, 0), height - 1) - y0
        rowsum = 0.0
        for a in range(alo, ahi):
            col = min(max(nx - NSINC + a, 0), width - 1) - x0
            rowsum += scratch[SCRATCH_X + a] * patch[row, col]
        acc += wy * rowsum
    return acc


@njit(**ENTRY)
def blot_sinc_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                      state, scratch):
    blot_loop(_sinc_point, _sinc_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY)
def blot_sinc_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                   state, scratch):
    blot_loop(_sinc_point, _sinc_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, False)
