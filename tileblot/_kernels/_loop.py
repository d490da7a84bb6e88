"""The pixel loop shared by every interpolator's entry point.

Each interpolator module defines two functions that interpolate one
coordinate, and one ``@njit(cache=True, nogil=True)`` entry point that calls
:func:`blot_loop` with them as module globals. numba inlines the loop into
each entry point, so every entry point is a self-contained compiled function
that the on-disk cache can find again in a new process (a dispatcher passed in
from Python would defeat the cache).

- ``point(window, y0, x0, height, width, x, y, state, drizzle, scratch)``,
  ``@njit(inline="always")``, returns ``(ok, value)``: the fast path for the
  common case (stencil wholly inside the image), or ``ok=False`` to hand the
  coordinate on. Inlining adds a reference-count increment and decrement per
  array argument and pixel, atomic operations that cost about a fifth of a
  poly3 pixel (measured); numba's pruning removes them only where the
  control flow is simple. So the point function does its array work in one
  branch, straight-line where it can, and calls no non-inlined function (the
  check of a call's error status defeats the pruning): that is why the
  general path is called from the loop, not from the point function. (The
  poly point functions come out free of them, checked in the generated code.)
- ``general(...)``, same arguments, a plain ``@njit`` function returning the
  value: every case, edges included. It is a real call, made only when
  ``point`` declines.

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

# Scratch space handed to the point functions, allocated once per call so
# that no pixel allocates (largest user: lan5's weights, up to 11 per axis).
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
def _rows(point, general, window, y0, x0, height, width, pixmap, out, fill, iscale, state, drizzle,
          scratch):
    scale32 = np.float32(iscale)
    ny, nx = out.shape
    for j in range(ny):
        for i in range(nx):
            x, y = coordinates(pixmap, j, i, drizzle)
            # Written so that NaN coordinates fail the test and get fillval.
            if x >= 0.0 and x < width and y >= 0.0 and y < height:
                ok, v = point(window, y0, x0, height, width, x, y, state, drizzle, scratch)
                if not ok:
                    v = general(window, y0, x0, height, width, x, y, state, drizzle, scratch)
                if drizzle:
                    # drizzle multiplies the float32 value by a float32 scale.
                    out[j, i] = np.float32(v) * scale32
                else:
                    out[j, i] = np.float32(v * iscale)
            else:
                out[j, i] = fill


@njit(inline="always")
def blot_loop(point, general, window, y0, x0, height, width, pixmap, out, fillval, iscale, state,
              drizzle):
    fill = np.float32(fillval)
    scratch = np.empty(SCRATCH_SIZE, dtype=np.float64)
    # One copy of the loop per precision, with ``drizzle`` a constant in each,
    # so that the per-pixel tests on it compile away.
    if drizzle:
        _rows(point, general, window, y0, x0, height, width, pixmap, out, fill, iscale, state,
              True, scratch)
    else:
        _rows(point, general, window, y0, x0, height, width, pixmap, out, fill, iscale, state,
              False, scratch)
