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

Speed: almost every pixel's stencil lies inside the image. Those take a
straight-line path with the weights in local variables (:func:`_poly3_point`,
:func:`_poly5_point`); only stencils that cross an edge go through the
reflecting general path (:func:`_poly3_general`, :func:`_poly5_general`), with
the weights in scratch. Both paths compute the weights with the same code (one
compiled function per order that LLVM inlines into both: ``_jit.INLINED``) and
add the same products in the same order, so they agree bit for bit.
"""

import numpy as np
from numba import njit

from ._jit import ENTRY, HELPER, INLINED
from ._layout import SCRATCH_X, SCRATCH_Y, check_taps
from ._loop import UNSIGNED as _U
from ._loop import blot_loop

check_taps("poly5", 6)


@njit(**INLINED)
def _cubic_weights(s):
    t = 1.0 - s
    a = s * (s * s - 1.0) / 6.0
    c = t * (t * t - 1.0) / 6.0
    return c, t + a - 2.0 * c, s - 2.0 * a + c, a


@njit(**INLINED)
def _quintic_weights(s):
    t = 1.0 - s
    a = s * (s * s - 1.0) / 6.0
    b = a * (s * s - 4.0) / 20.0
    c = t * (t * t - 1.0) / 6.0
    d = c * (t * t - 4.0) / 20.0
    return (
        d,
        b + c - 4.0 * d,
        a - 4.0 * b + t - 2.0 * c + 6.0 * d,
        s - 2.0 * a + 6.0 * b + c - 4.0 * d,
        a - 4.0 * b + d,
        b,
    )


@njit(inline="always")
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


# Unsigned offsets for the stencil's indices, never negative here (see _loop).


@njit(inline="always")
def _dot4(patch, r, c, w0, w1, w2, w3):
    r, c = np.uint64(r), np.uint64(c)
    return (w0 * patch[r, c] + w1 * patch[r, c + _U[1]] + w2 * patch[r, c + _U[2]]
            + w3 * patch[r, c + _U[3]])


@njit(inline="always")
def _dot6(patch, r, c, w0, w1, w2, w3, w4, w5):
    r, c = np.uint64(r), np.uint64(c)
    return (
        w0 * patch[r, c]
        + w1 * patch[r, c + _U[1]]
        + w2 * patch[r, c + _U[2]]
        + w3 * patch[r, c + _U[3]]
        + w4 * patch[r, c + _U[4]]
        + w5 * patch[r, c + _U[5]]
    )


@njit(inline="always")
def _store4(scratch, offset, w):
    scratch[offset], scratch[offset + 1], scratch[offset + 2], scratch[offset + 3] = w


@njit(inline="always")
def _store6(scratch, offset, w):
    scratch[offset], scratch[offset + 1], scratch[offset + 2] = w[0], w[1], w[2]
    scratch[offset + 3], scratch[offset + 4], scratch[offset + 5] = w[3], w[4], w[5]


@njit(**HELPER)
def _row_value(patch, x0, width, r, ix, w, ntaps, half):
    """Interpolate along patch row ``r`` with weights ``w[SCRATCH_X:][:ntaps]``, reflecting
    at the ends. (The row comes as a patch index, never a constant: numba would compile
    once more for each constant, typed as a literal.)"""
    first = ix - half
    acc = 0.0
    for k in range(ntaps):
        col = first + k
        if col < 0:
            v = 2.0 * patch[r, -x0] - patch[r, -col - x0]
        elif col >= width:
            v = 2.0 * patch[r, width - 1 - x0] - patch[r, 2 * width - 2 - col - x0]
        else:
            v = patch[r, col - x0]
        acc += w[SCRATCH_X + k] * v
    return acc


@njit(**HELPER)
def _poly_edge(patch, y0, x0, height, width, ix, iy, drizzle, w, ntaps, half):
    """General path for a stencil that crosses an edge; weights in scratch ``w`` (x, y)."""
    acc = 0.0
    for k in range(ntaps):
        row = iy - half + k
        if 0 <= row < height:
            z = _row_value(patch, x0, width, row - y0, ix, w, ntaps, half)
        elif drizzle and ntaps == 6 and k == 5:
            # drizzle's poly5 quirk: the last stencil row past the edge is row H-4.
            z = _row_value(patch, x0, width, height - 4 - y0, ix, w, ntaps, half)
        elif row < 0:
            z = 2.0 * _row_value(patch, x0, width, -y0, ix, w, ntaps, half) - _row_value(
                patch, x0, width, -row - y0, ix, w, ntaps, half
            )
        else:
            edge = _row_value(patch, x0, width, height - 1 - y0, ix, w, ntaps, half)
            z = 2.0 * edge - _row_value(patch, x0, width, 2 * height - 2 - row - y0, ix, w,
                                        ntaps, half)
        acc += w[SCRATCH_Y + k] * z
    return acc


@njit(inline="always")
def _poly3_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix, sx = _fraction(x, 1, drizzle)
    iy, sy = _fraction(y, 1, drizzle)
    if ix >= 1 and ix + 2 < width and iy >= 1 and iy + 2 < height:
        wx0, wx1, wx2, wx3 = _cubic_weights(sx)
        wy = _cubic_weights(sy)
        r = iy - 1 - y0
        c = ix - 1 - x0
        # wy0 * row0 + wy1 * row1 + ... in this order; a loop (LLVM unrolls it) inlines
        # _dot4 once, where a straight-line sum would have numba copy and type it per row.
        acc = wy[0] * _dot4(patch, r, c, wx0, wx1, wx2, wx3)
        for b in range(1, 4):
            acc += wy[b] * _dot4(patch, r + b, c, wx0, wx1, wx2, wx3)
        return True, acc
    return False, 0.0


@njit(**HELPER)
def _poly3_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix, sx = _fraction(x, 1, drizzle)
    iy, sy = _fraction(y, 1, drizzle)
    _store4(scratch, SCRATCH_X, _cubic_weights(sx))
    _store4(scratch, SCRATCH_Y, _cubic_weights(sy))
    return _poly_edge(patch, y0, x0, height, width, ix, iy, drizzle, scratch, 4, 1)


@njit(inline="always")
def _poly5_point(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix, sx = _fraction(x, 2, drizzle)
    iy, sy = _fraction(y, 2, drizzle)
    if ix >= 2 and ix + 3 < width and iy >= 2 and iy + 3 < height:
        wx0, wx1, wx2, wx3, wx4, wx5 = _quintic_weights(sx)
        wy = _quintic_weights(sy)
        r = iy - 2 - y0
        c = ix - 2 - x0
        acc = wy[0] * _dot6(patch, r, c, wx0, wx1, wx2, wx3, wx4, wx5)
        for b in range(1, 6):
            acc += wy[b] * _dot6(patch, r + b, c, wx0, wx1, wx2, wx3, wx4, wx5)
        return True, acc
    return False, 0.0


@njit(**HELPER)
def _poly5_general(patch, y0, x0, height, width, x, y, state, drizzle, scratch):
    ix, sx = _fraction(x, 2, drizzle)
    iy, sy = _fraction(y, 2, drizzle)
    _store6(scratch, SCRATCH_X, _quintic_weights(sx))
    _store6(scratch, SCRATCH_Y, _quintic_weights(sy))
    return _poly_edge(patch, y0, x0, height, width, ix, iy, drizzle, scratch, 6, 2)


@njit(**ENTRY)
def blot_poly3_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                       state, scratch):
    blot_loop(_poly3_point, _poly3_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY)
def blot_poly3_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                    state, scratch):
    blot_loop(_poly3_point, _poly3_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, False)


@njit(**ENTRY)
def blot_poly5_drizzle(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                       state, scratch):
    blot_loop(_poly5_point, _poly5_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, True)


@njit(**ENTRY)
def blot_poly5_high(patch, y0, x0, height, width, pixmap, j0, i0, out, fillval, iscale,
                    state, scratch):
    blot_loop(_poly5_point, _poly5_general, patch, y0, x0, height, width, pixmap, j0, i0, out,
              fillval, iscale, state, scratch, False)
