"""Bilinear interpolation (drizzle's ``linear``)."""

from numba import njit

from ._jit import ENTRY, HELPER
from ._loop import blot_loop


@njit(inline="always")
def _bilinear(patch, r, c, sx, sy):
    tx = 1.0 - sx
    ty = 1.0 - sy
    return (
        tx * ty * patch[r, c]
        + sx * ty * patch[r, c + 1]
        + sy * tx * patch[r + 1, c]
        + sx * sy * patch[r + 1, c + 1]
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
