"""Bilinear interpolation (drizzle's ``linear``)."""

import numpy as np
from numba import njit

from ._jit import ENTRY, HELPER
from ._loop import blot_loop


@njit(inline="always")
def _bilinear(patch, r, c, sx, sy):
    tx = 1.0 - sx
    ty = 1.0 - sy
    # Unsigned indices, never negative here: see _loop.
    r0 = np.uint64(r)
    c0 = np.uint64(c)
    r1 = r0 + np.uint64(1)
    c1 = c0 + np.uint64(1)
    return (
        tx * ty * patch[r0, c0]
        + sx * ty * patch[r0, c1]
        + sy * tx * patch[r1, c0]
        + sx * sy * patch[r1, c1]
    )


@njit(inline="always")
def _linear_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix = int(x)
    iy = int(y)
    if ix < width - 1 and iy < height - 1:
        return True, _bilinear(patch, iy - y0, ix - x0, x - ix, y - iy)
    return False, 0.0


@njit(**HELPER)
def _linear_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix = int(x)
    iy = int(y)
    f00 = patch[iy - y0, ix - x0]
    sx = x - ix
    sy = y - iy
    # drizzle's edge rule: on the last column (row) interpolate along the
    # other axis only; the last pixel is returned as it is.
    if ix == width - 1:
        if iy == height - 1:
            return f00
        return (1.0 - sy) * f00 + sy * patch[iy + 1 - y0, ix - x0]
    if iy == height - 1:
        return (1.0 - sx) * f00 + sx * patch[iy - y0, ix + 1 - x0]
    return _bilinear(patch, iy - y0, ix - x0, sx, sy)


@njit(**ENTRY)
def blot_linear_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                        state, scratch):
    blot_loop(_linear_point, _linear_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY)
def blot_linear_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                     state, scratch):
    blot_loop(_linear_point, _linear_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, False)
