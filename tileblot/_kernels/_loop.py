"""The pixel loop shared by every interpolator's entry point.

Each interpolator module defines two functions that interpolate one
coordinate, and one ``@njit(cache=True, nogil=True)`` entry point *per
precision* (and per Lanczos order) that calls :func:`blot_loop` with them as
module globals and with ``drizzle`` a literal. numba inlines the loop into each
entry point, so every entry point is a self-contained compiled function that
the on-disk cache can find again in a new process (a dispatcher passed in from
Python would defeat the cache), and a call compiles only the code of its own
precision and order: numba prunes the branches on the literal ``drizzle``
before typing them, so write them ``if drizzle:`` / ``else:`` (a test on
``not drizzle`` is not pruned, only optimised away later, after its code has
been typed and lowered).

- ``point(patch, y0, x0, height, width, x, y, state, drizzle, scratch)``,
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
- ``general(...)``, same arguments, an ``@njit(**HELPER)`` function returning the
  value: every case, edges included. It is a real call, made only when
  ``point`` declines.

The exact Lanczos kernels use :func:`blot_block_loop` instead: the same loop, a
block of pixels at a time, with a ``prepare`` step that computes the block's
weights in loops LLVM vectorises, and point and general functions that also
take the pixel's place ``k`` in the block.

Entry-point signature, shared by all interpolators::

    entry(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale, state, scratch)

Callers go through :meth:`tileblot._kernels._registry.Interpolator.kernel`,
which brings every input to the canonical types below first (see
:mod:`tileblot._kernels._canonical`), so that numba compiles one
specialisation per precision and patch/pixmap dtype, whatever the caller's
byte order, layout or write flag.

patch : 2-D float32 or float64 array, C-contiguous, read-only
    Rows ``y0 .. y0 + patch.shape[0]`` and columns ``x0 .. x0 + patch.shape[1]``
    of the full image, whose shape is ``(height, width)``.
pixmap : (NY, NX, 2) float32 or float64 array, C-contiguous, read-only
    ``pixmap[j0 + j, i0 + i] = (x, y)``: where output pixel ``(j, i)`` falls
    in the full image (global, 0-based pixel coordinates).
j0, i0 : int
    Origin of the output's rectangle in ``pixmap``: like the patch, a tile's
    pixmap can be read in place in a larger array (see
    :func:`~tileblot._kernels._canonical.pixmap_in_place`).
out : (ny, nx) float32 array, C-contiguous
    Filled in place; its shape is the rectangle's.
fillval, iscale : float
    Value for pixels off the image; factor applied to interpolated values.
state : 1-D float64 array, read-only
    Per-interpolator constants built once outside the pixel loop (Lanczos
    table, sinc taper and scale; layouts in :mod:`tileblot._kernels._layout`);
    may be empty.
scratch : 1-D float64 array, C-contiguous, writeable, at least ``SCRATCH_SIZE`` long
    Room for the general paths' weights and the block loop's numbers (layout in
    :mod:`tileblot._kernels._layout`), one per call, zeroed (a short last block
    weighs numbers it never uses: never uninitialised memory, whose subnormals
    would be slow). The caller allocates it, because an allocation inside the
    compiled code is a piece of numba's runtime that every entry point would
    compile again on a cold start (0.2-0.3 s CPU each, measured).

Indices that cannot be negative are cast to ``np.uint64`` where they are
computed from arguments (the pixmap's ``j0 + j``, a patch's ``iy - y0``):
numba wraps a negative *signed* index around, with a test and an add per
index and pixel that LLVM cannot remove when the index is not a loop
counter. In the cheap kernels those were a quarter of nearest's time and a
fifth of linear's (measured: 4096 x 4096 on one thread, nearest 72-79 ms
before, 54-55 ms after). In the stencil sums of poly3 and poly5 they save 1-6%,
in the exact Lanczos sums 4-12%, in drizzle's table Lanczos 7-9% (timed against
the signed versions in one process). The general (edge) paths, rarely taken,
keep signed indices.

The precision is the entry point's: ``drizzle`` reproduces drizzle 3.0's
float32 arithmetic details and edge quirks, ``high`` is float64.
"""

import numpy as np
from numba import njit

from ._cache import call
from ._canonical import canonical_pixmap_rect
from ._jit import ENTRY
from ._layout import BLOCK, BLOCK_X, BLOCK_Y

# Small unsigned constants for offsets added to unsigned indices (``c + UNSIGNED[2]``):
# adding a signed int to an unsigned one gives a float in numba.
UNSIGNED = tuple(np.uint64(n) for n in range(10))


@njit(inline="always")
def coordinates(pixmap, j, i, drizzle):
    """``(x, y)`` of output pixel ``(j, i)`` as float64; rounded to float32 as drizzle does."""
    jj = np.uint64(j)  # unsigned: see the module's docstring
    ii = np.uint64(i)
    if drizzle:
        return np.float64(np.float32(pixmap[jj, ii, 0])), np.float64(np.float32(pixmap[jj, ii, 1]))
    return np.float64(pixmap[jj, ii, 0]), np.float64(pixmap[jj, ii, 1])


@njit(inline="always")
def _bbox(rows, j0, i0, ny, nx, height, width, drizzle):
    # ``rows`` is the pixmap as (NY, 2 * NX): a row's x and y side by side, read at a
    # constant stride, so that LLVM vectorises the loop (indexed in three dimensions, the
    # pixmap's pair stride is a run-time value and it does not). The tests and the min and
    # max are branch-free, and on integer floors: floor is monotonic, so the floor of the
    # extreme is the extreme of the floors, and integer reductions vectorise where float
    # ones do not. 1.3-1.7x as fast as the branching float loop (measured: 512 x 512 tiles
    # of a 4096 x 4096 pixmap, one thread).
    count = 0
    none = np.int64(1) << np.int64(62)
    ymin = none
    ymax = np.int64(-1)
    xmin = none
    xmax = np.int64(-1)
    for j in range(j0, j0 + ny):
        row = rows[np.uint64(j)]
        for i in range(np.uint64(2 * i0), np.uint64(2 * (i0 + nx)), UNSIGNED[2]):
            if drizzle:
                x = np.float64(np.float32(row[i]))
                y = np.float64(np.float32(row[i + UNSIGNED[1]]))
            else:
                x = np.float64(row[i])
                y = np.float64(row[i + UNSIGNED[1]])
            # The loop's own test (NaN fails it); x and y are then in [0, width) and
            # [0, height), where truncation is floor.
            on = (x >= 0.0) & (x < width) & (y >= 0.0) & (y < height)
            ix = np.int64(x) if on else none
            iy = np.int64(y) if on else none
            count += np.int64(on)
            xmin = min(xmin, ix)
            ymin = min(ymin, iy)
            xmax = max(xmax, ix if on else np.int64(-1))
            ymax = max(ymax, iy if on else np.int64(-1))
    if count == 0:
        return 0, 0, 0, 0, 0
    return count, ymin, ymax, xmin, xmax


@njit(**ENTRY)
def _bbox_drizzle(rows, j0, i0, ny, nx, height, width):
    return _bbox(rows, j0, i0, ny, nx, height, width, True)


@njit(**ENTRY)
def _bbox_high(rows, j0, i0, ny, nx, height, width):
    return _bbox(rows, j0, i0, ny, nx, height, width, False)


def onimage_bbox(pixmap, height, width, drizzle):
    """Bounding box of the coordinates the loop below will interpolate.

    Returns ``(count, iy_min, iy_max, ix_min, ix_max)``: how many coordinates
    fall on the image and the floors of their extremes (the box is
    meaningless when ``count`` is 0). Uses exactly the loop's rounding and
    on-image test, so that a window built from it covers every read. Like
    the loop, reads ``pixmap`` in place where it can.
    """
    scan = _bbox_drizzle if drizzle else _bbox_high
    parent, j0, i0 = canonical_pixmap_rect(pixmap)
    rows = parent.reshape(parent.shape[0], 2 * parent.shape[1])  # a view: parent is C-ordered
    ny, nx = np.shape(pixmap)[:2]
    # Python ints, as numba returns them (interpreted, the scan's are numpy's).
    return tuple(int(v) for v in call(scan, rows, j0, i0, int(ny), int(nx), int(height),
                                      int(width)))


@njit(inline="always")
def blot_loop(point, general, patch, y0, x0, height, width, pixmap, j0, i0, out, fillval,
              iscale, state, scratch, drizzle):
    fill = np.float32(fillval)
    scale32 = np.float32(iscale)
    ny, nx = out.shape
    for j in range(ny):
        for i in range(nx):
            x, y = coordinates(pixmap, j0 + j, i0 + i, drizzle)
            # Written so that NaN coordinates fail the test and get fillval.
            if x >= 0.0 and x < width and y >= 0.0 and y < height:
                ok, v = point(patch, y0, x0, height, width, x, y, state, drizzle, scratch)
                if not ok:
                    v = general(patch, y0, x0, height, width, x, y, state, drizzle, scratch)
                if drizzle:
                    # drizzle multiplies the float32 value by a float32 scale.
                    out[j, i] = np.float32(v) * scale32
                else:
                    out[j, i] = np.float32(v * iscale)
            else:
                out[j, i] = fill


@njit(inline="always")
def blot_block_loop(prepare, point, general, patch, y0, x0, height, width, pixmap, j0, i0,
                    out, fillval, iscale, state, scratch, drizzle):
    """:func:`blot_loop` for interpolators whose per-pixel numbers vectorise.

    Each row goes in blocks of ``BLOCK`` pixels: their coordinates are copied
    into ``scratch``, ``prepare(scratch)`` computes what each coordinate of a
    whole block needs (a short last block's unused part included: its numbers
    are never read) into the block rows (layout in :mod:`._layout`), and
    ``point(patch, y0, x0, height, width, x, y, k, state, drizzle, scratch)``
    and ``general`` (same arguments) take pixel ``k``'s numbers from there.
    ``prepare``'s loop over the block is numbers only, of constant trip count,
    unit stride and indexed by unsigned integers (numba wraps a signed index
    around, which makes the addresses look scattered), so LLVM vectorises it:
    numba keeps its other vectoriser (SLP), which would vectorise one pixel's
    independent operations, off.
    """
    fill = np.float32(fillval)
    scale32 = np.float32(iscale)
    ny, nx = out.shape
    for j in range(ny):
        for start in range(0, nx, BLOCK):
            n = min(BLOCK, nx - start)
            for k in range(n):
                x, y = coordinates(pixmap, j0 + j, i0 + start + k, drizzle)
                scratch[BLOCK_X + k] = x
                scratch[BLOCK_Y + k] = y
            prepare(scratch)
            # blot_loop's pixel, written out again: shared through an inline="always"
            # helper it cost the other interpolators 0.6-1.4% more cold-call instructions.
            for k in range(n):
                x = scratch[BLOCK_X + k]
                y = scratch[BLOCK_Y + k]
                if x >= 0.0 and x < width and y >= 0.0 and y < height:
                    ok, v = point(patch, y0, x0, height, width, x, y, k, state, drizzle, scratch)
                    if not ok:
                        v = general(patch, y0, x0, height, width, x, y, k, state, drizzle,
                                    scratch)
                    if drizzle:
                        out[j, start + k] = np.float32(v) * scale32
                    else:
                        out[j, start + k] = np.float32(v * iscale)
                else:
                    out[j, start + k] = fill
