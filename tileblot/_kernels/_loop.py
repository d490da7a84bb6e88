"""The pixel loop shared by every interpolator's entry point.

Each interpolator module defines a *point* function that interpolates one
coordinate, and one ``@njit(cache=True, nogil=True)`` entry point that calls
:func:`blot_loop` with that point function as a module global. numba inlines
the loop into each entry point, so every entry point is a self-contained
compiled function that the on-disk cache can find again in a new process (a
dispatcher passed in from Python would defeat the cache).

Entry-point signature, shared by all interpolators::

    entry(window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle)

window : 2-D float32 or float64 array
    Rows ``y0 .. y0 + window.shape[0]`` and columns ``x0 .. x0 + window.shape[1]``
    of the full image, whose shape is ``(height, width)``.
pixmap : (ny, nx, 2) float32 or float64 array
    ``pixmap[j, i] = (x, y)``: where output pixel ``(j, i)`` falls in the full
    image (global, 0-based pixel coordinates).
out : (ny, nx) float32 array
    Filled in place.
fillval, iscale : float
    Value for pixels off the image; factor applied to interpolated values.
state : 1-D float64 array
    Per-interpolator constants built once outside the pixel loop (Lanczos
    table, sinc taper and scale); may be empty.
drizzle : bool
    ``True`` reproduces drizzle 3.0's float32 arithmetic details and edge
    quirks; ``False`` is the float64 "high" precision.
"""

import numpy as np
from numba import njit

# Scratch space handed to point functions, allocated once per call so that
# no pixel allocates (largest user: lan5's 12 weights per axis).
SCRATCH_SIZE = 64


@njit(inline="always")
def coordinates(pixmap, j, i, drizzle):
    """``(x, y)`` of output pixel ``(j, i)`` as float64; rounded to float32 as drizzle does."""
    if drizzle:
        return np.float64(np.float32(pixmap[j, i, 0])), np.float64(np.float32(pixmap[j, i, 1]))
    return np.float64(pixmap[j, i, 0]), np.float64(pixmap[j, i, 1])


@njit(nogil=True, cache=True)
def onimage_bbox(pixmap, height, width, drizzle):
    """Bounding box of the coordinates the loop below will interpolate.

    Returns ``(count, iy_min, iy_max, ix_min, ix_max)``: how many coordinates
    fall on the image and the floors of their extremes (the box is
    meaningless when ``count`` is 0). Uses exactly the loop's rounding and
    on-image test, so that a window built from it covers every read.
    """
    count = 0
    ymin = np.inf
    ymax = -np.inf
    xmin = np.inf
    xmax = -np.inf
    ny, nx = pixmap.shape[0], pixmap.shape[1]
    for j in range(ny):
        for i in range(nx):
            x, y = coordinates(pixmap, j, i, drizzle)
            if x >= 0.0 and x < width and y >= 0.0 and y < height:
                count += 1
                xmin = min(xmin, x)
                xmax = max(xmax, x)
                ymin = min(ymin, y)
                ymax = max(ymax, y)
    if count == 0:
        return 0, 0, 0, 0, 0
    return count, int(ymin), int(ymax), int(xmin), int(xmax)


@njit(inline="always")
def blot_loop(point, window, y0, x0, height, width, pixmap, out, fillval, iscale, state, drizzle):
    fill = np.float32(fillval)
    scale32 = np.float32(iscale)
    scratch = np.empty(SCRATCH_SIZE, dtype=np.float64)
    ny, nx = out.shape
    for j in range(ny):
        for i in range(nx):
            x, y = coordinates(pixmap, j, i, drizzle)
            # Written so that NaN coordinates fail the test and get fillval.
            if x >= 0.0 and x < width and y >= 0.0 and y < height:
                v = point(window, y0, x0, height, width, x, y, state, drizzle, scratch)
                if drizzle:
                    # drizzle multiplies the float32 value by a float32 scale.
                    out[j, i] = np.float32(v) * scale32
                else:
                    out[j, i] = np.float32(v * iscale)
            else:
                out[j, i] = fill
