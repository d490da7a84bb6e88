"""Cubic and quintic polynomial interpolation (drizzle's ``poly3``, ``poly5``).

drizzle evaluates the unique cubic (quintic) through 4 (6) points per axis
with Everett's central-difference formula, rebuilding the differences for
every pixel. The same polynomial is a separable 4- (6-) tap filter whose
weights depend only on the fractional offset, which is what we compute.

Edges: beyond the image the data are continued by odd reflection,
``d[-k] = 2 d[0] - d[k]`` and ``d[N-1+k] = 2 d[N-1] - d[N-1-k]``, as drizzle
does. With ``drizzle=True`` we also reproduce drizzle's one quirk that is
well defined: poly5 fills the stencil row ``iy + 3``, when it lies past the
bottom edge, with row ``H - 4`` instead of its reflection. Where drizzle reads
outside its own arrays (poly3 with ``int(y) == H - 1``) we use the odd
reflection.
"""

import numpy as np
from numba import njit

from ._loop import blot_loop


@njit(nogil=True, cache=True)
def _cubic_weights(s, w, offset):
    t = 1.0 - s
    a = s * (s * s - 1.0) / 6.0
    c = t * (t * t - 1.0) / 6.0
    w[offset] = c
    w[offset + 1] = t + a - 2.0 * c
    w[offset + 2] = s - 2.0 * a + c
    w[offset + 3] = a


@njit(nogil=True, cache=True)
def _quintic_weights(s, w, offset):
    t = 1.0 - s
    a = s * (s * s - 1.0) / 6.0
    b = a * (s * s - 4.0) / 20.0
    c = t * (t * t - 1.0) / 6.0
    d = c * (t * t - 4.0) / 20.0
    w[offset] = d
    w[offset + 1] = b + c - 4.0 * d
    w[offset + 2] = a - 4.0 * b + t - 2.0 * c + 6.0 * d
    w[offset + 3] = s - 2.0 * a + 6.0 * b + c - 4.0 * d
    w[offset + 4] = a - 4.0 * b + d
    w[offset + 5] = b


@njit(nogil=True, cache=True)
def _fraction(v, half, drizzle):
    """Integer part and fraction of coordinate ``v`` as the stencil uses them."""
    iv = int(v)
    s = v - iv
    if drizzle:
        # drizzle shifts the fraction into the stencil, ``(float)(half + 1) + s``,
        # in float32 before splitting it again: reproduce that rounding.
        shifted = np.float64(np.float32(half + 1.0 + s))
        s = shifted - (half + 1.0)
    return iv, s


@njit(nogil=True, cache=True)
def _row_value(window, y0, x0, width, row, ix, w, ntaps, half):
    """Interpolate along image row ``row`` with weights ``w[:ntaps]``."""
    first = ix - half
    r = row - y0
    acc = 0.0
    if first >= 0 and first + ntaps <= width:
        for k in range(ntaps):
            acc += w[k] * window[r, first + k - x0]
        return acc
    for k in range(ntaps):
        col = first + k
        if col < 0:
            v = 2.0 * window[r, -x0] - window[r, -col - x0]
        elif col >= width:
            v = 2.0 * window[r, width - 1 - x0] - window[r, 2 * width - 2 - col - x0]
        else:
            v = window[r, col - x0]
        acc += w[k] * v
    return acc


@njit(nogil=True, cache=True)
def _poly_point(window, y0, x0, height, width, x, y, drizzle, w, ntaps, half):
    ix, sx = _fraction(x, half, drizzle)
    iy, sy = _fraction(y, half, drizzle)
    if ntaps == 4:
        _cubic_weights(sx, w, 0)
        _cubic_weights(sy, w, ntaps)
    else:
        _quintic_weights(sx, w, 0)
        _quintic_weights(sy, w, ntaps)
    acc = 0.0
    for k in range(ntaps):
        row = iy - half + k
        if 0 <= row < height:
            z = _row_value(window, y0, x0, width, row, ix, w, ntaps, half)
        elif drizzle and ntaps == 6 and k == 5:
            # drizzle's poly5 quirk: the last stencil row past the edge is row H-4.
            z = _row_value(window, y0, x0, width, height - 4, ix, w, ntaps, half)
        elif row < 0:
            z = 2.0 * _row_value(window, y0, x0, width, 0, ix, w, ntaps, half) - _row_value(
                window, y0, x0, width, -row, ix, w, ntaps, half
            )
        else:
            z = 2.0 * _row_value(window, y0, x0, width, height - 1, ix, w, ntaps, half) - _row_value(
                window, y0, x0, width, 2 * height - 2 - row, ix, w, ntaps, half
            )
        acc += w[ntaps + k] * z
    return acc


@njit(nogil=True, cache=True)
def _poly3_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    return _poly_point(window, y0, x0, height, width, x, y, drizzle, scratch, 4, 1)


@njit(nogil=True, cache=True)
def _poly5_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    return _poly_point(window, y0, x0, height, width, x, y, drizzle, scratch, 6, 2)


@njit(nogil=True, cache=True)
def blot_poly3(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    blot_loop(_poly3_point, window, y0, x0, height, width, pixmap, out, fillval, iscale, state,
              drizzle)


@njit(nogil=True, cache=True)
def blot_poly5(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    blot_loop(_poly5_point, window, y0, x0, height, width, pixmap, out, fillval, iscale, state,
              drizzle)
