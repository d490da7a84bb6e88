"""Bilinear interpolation (drizzle's ``linear``)."""

from numba import njit

from ._loop import blot_loop


@njit(nogil=True, cache=True)
def _linear_point(window, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix = int(x)
    iy = int(y)
    f00 = window[iy - y0, ix - x0]
    sx = x - ix
    sy = y - iy
    # drizzle's edge rule: on the last column (row) interpolate along the
    # other axis only; the last pixel is returned as it is.
    if ix == width - 1:
        if iy == height - 1:
            return f00
        return (1.0 - sy) * f00 + sy * window[iy + 1 - y0, ix - x0]
    if iy == height - 1:
        return (1.0 - sx) * f00 + sx * window[iy - y0, ix + 1 - x0]
    tx = 1.0 - sx
    ty = 1.0 - sy
    return (
        tx * ty * f00
        + sx * ty * window[iy - y0, ix + 1 - x0]
        + sy * tx * window[iy + 1 - y0, ix - x0]
        + sx * sy * window[iy + 1 - y0, ix + 1 - x0]
    )


@njit(nogil=True, cache=True)
def blot_linear(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    blot_loop(_linear_point, window, y0, x0, height, width, pixmap, out, fillval, iscale, state,
              drizzle)
