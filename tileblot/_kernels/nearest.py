"""Nearest-neighbour interpolation (drizzle's ``nearest``)."""

import numpy as np
from numba import njit

from ._jit import ENTRY, HELPER
from ._loop import blot_loop


@njit(inline="always")
def _nearest_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix = int(x + 0.5)
    iy = int(y + 0.5)
    # drizzle reads one past its array when x rounds to width: use the edge.
    if ix > width - 1:
        ix = width - 1
    if iy > height - 1:
        iy = height - 1
    # Unsigned indices, never negative here: see _loop.
    return True, patch[np.uint64(iy - y0), np.uint64(ix - x0)]


@njit(**HELPER)
def _nearest_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    # Never called: the point function handles every coordinate.
    return _nearest_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch)[1]


@njit(**ENTRY)
def blot_nearest_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                         state, scratch):
    blot_loop(_nearest_point, _nearest_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY)
def blot_nearest_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                      state, scratch):
    blot_loop(_nearest_point, _nearest_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, False)
