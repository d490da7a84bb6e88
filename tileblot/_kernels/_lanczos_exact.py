"""Exact Lanczos weights (precision "high") and the sums of the fast path.

The fast path (a whole stencil inside the image) takes ``L(d) = sinc(d)
sinc(d / n)`` for the ``2 n`` taps of one axis, to float64 rounding (tested
against the formula in 40-digit arithmetic), without a ``sin`` or a division
per tap:

- Fold. With ``s`` the fraction of the coordinate, pixel ``floor(v) + m``
  lies at ``d = s - m``. ``L`` is even, so the weights at ``s`` are those at
  ``1 - s`` in reverse order: they are computed for ``s <= 1/2`` only, where
  none of the steps below cancels, and :func:`fold` says when to reverse.
- One sine and cosine per axis. ``sin(pi d) = (-1)^m sin(pi s)``; with
  ``a = pi s / n`` and ``b = pi / n``, ``sin(pi d / n) = sin(a) cos(m b) -
  cos(a) sin(m b)``, where ``cos(m b)``, ``sin(m b)`` are constants of the
  order; and ``sin(pi s) = sin(n a)`` is a polynomial in ``sin(a)``. The angle
  ``a`` is at most ``pi / (2 n)``, where short Taylor polynomials of
  ``sin(a) / a`` and ``cos(a)`` are the functions to float64 rounding. They are
  evaluated by Estrin's scheme (powers ``z, z^2, z^4`` of ``z = a^2``, then
  independent pairs), whose chains of dependent operations are a third as long
  as Horner's: a pixel's speed is bound by such chains, not by the count of
  operations.
- One division per axis. The weight of tap ``d != 0`` is
  ``n sin(pi d) sin(pi d / n) / (pi d)^2``; the ``2 n - 1`` reciprocals
  ``1 / d^2`` come from one reciprocal of their product (products of the
  others, in a balanced tree), taken first so that it overlaps the polynomials.
  The centre tap is ``(sin(a) / a)^2 sin(n a) / (n sin(a))``: no quotient, so
  no special case where ``d^2`` underflows.

The result is within 4 ulp(1) / 2 of the formula where the direct float64
formula is within 3 (the test's bound is 8). The exact paths are compiled with
FMA contraction (:data:`HIGH_FLAGS`): a fused multiply-add rounds once and is
one instruction of short latency.

Both orders weigh a block of pixels at a time (``_loop.blot_block_loop``):
:func:`prepare6` and :func:`prepare10` weigh the block's coordinates, both axes, in
one loop that LLVM vectorises (four coordinates an instruction with AVX2), and leave
the weights in the order of the pixels (a folded axis's weights reversed by
:func:`in_order6`, :func:`in_order10`: selects, no branch) in the scratch array, where
each pixel's stencil sum (:func:`block_sum6`, :func:`block_sum10`) reads them. One
pixel's weights at a time were about half of lan3's time and two fifths of lan5's
(timed by leaving either part out); a block at a time, lan3 runs 1.5x as fast and
lan5 1.3x (2026-12, one process, interleaved). These weights take numpy's error
model: their one divisor is never zero, and the check for it would keep LLVM from
vectorising. The weights, :func:`fold` and the reversals are compiled once and
inlined by LLVM (:data:`~._jit.INLINED`).

The general path (a stencil crossing an edge, an integer coordinate) reads the same
weights: the prepare step weighs every coordinate of the block, so
:func:`block_general` only clips the stencil to the image and sums, one function for
both orders. It replaced a second evaluation of the formula, tap by tap, whose compile
time was a fifth of a cold exact Lanczos call.

The stencil sums take each row as a tree of pairs and the rows in a loop of fixed
trip count, which LLVM unrolls: shorter chains of dependent additions than
straight-line running sums, and a fraction of their compile time.
"""

import math

import numpy as np
from numba import njit

from ._jit import HELPER, INLINED
from ._layout import BLOCK, BLOCK_WEIGHTS, BLOCK_X, LANCZOS_ORDER
from ._loop import UNSIGNED as _U

#: numba ``fastmath`` flags of the exact paths: FMA contraction only. Never for precision
#: "drizzle", whose numbers are drizzle's.
HIGH_FLAGS = {"contract"}


def _rotations(order):
    """``(-1)^m cos(m pi / n)`` and ``(-1)^m sin(m pi / n)`` for taps ``m = 1 - n .. n``."""
    taps = range(1 - order, order + 1)
    return (tuple((-1.0) ** m * math.cos(m * math.pi / order) for m in taps),
            tuple((-1.0) ** m * math.sin(m * math.pi / order) for m in taps))


def _taylor(terms, odd):
    """Taylor coefficients of ``sin(a) / a`` (``odd``) or ``cos(a)`` in powers of ``a^2``."""
    return tuple((-1.0) ** k / math.factorial(2 * k + odd) for k in range(terms))


# Module-level tuples: numba compiles them in as constants.
_COS3, _SIN3 = _rotations(3)
_COS5, _SIN5 = _rotations(5)
# On 0 <= a <= pi / (2 n) the first term left out is below 1e-18 relative (lan3, a <= pi / 6:
# 8 and 9 terms; lan5, a <= pi / 10: 7 and 7).
_SINC3, _COSINE3 = _taylor(8, 1), _taylor(9, 0)
_SINC5, _COSINE5 = _taylor(7, 1), _taylor(7, 0)
_K3 = 3.0 / (math.pi * math.pi)
_K5 = 5.0 / (math.pi * math.pi)


@njit(**INLINED)
def fold(v):
    """The fraction ``s`` of ``v`` folded into ``[0, 1/2]``, and whether it was folded.

    A folded axis takes the weights of ``s`` in reverse order. The floor is a float
    (``np.floor``, not ``int``): AVX2 converts no vector of floats to 64-bit integers, and
    an integer here would keep the block loops from vectorising. A coordinate that is not
    finite (off the image: its weights are never read) is taken as 0, so that no invalid
    operation is ever done, compiled or interpreted (``NUMBA_DISABLE_JIT``).
    """
    if not abs(v) < 1e300:
        v = 0.0
    s = v - np.floor(v)
    flip = s > 0.5
    if flip:
        s = 1.0 - s  # exact (Sterbenz)
    return s, flip


@njit(**INLINED, fastmath=HIGH_FLAGS, error_model="numpy")
def weights6(s):
    """lan3 weights of the taps at ``d = s + 2, s + 1, ..., s - 3``, for ``0 <= s <= 1/2``."""
    q0 = (s + 2.0) * (s + 2.0)
    q1 = (s + 1.0) * (s + 1.0)
    q3 = (s - 1.0) * (s - 1.0)
    q4 = (s - 2.0) * (s - 2.0)
    q5 = (s - 3.0) * (s - 3.0)
    p01 = q0 * q1
    p34 = q3 * q4
    p345 = p34 * q5
    inv = 1.0 / (p01 * p345)
    i01 = inv * p345  # 1 / (q0 q1)
    i345 = inv * p01  # 1 / (q3 q4 q5)
    i34 = i345 * q5
    a = s * (math.pi / 3.0)
    z = a * a
    z2 = z * z
    z4 = z2 * z2
    c = _SINC3
    r = (((c[0] + c[1] * z) + (c[2] + c[3] * z) * z2)
         + ((c[4] + c[5] * z) + (c[6] + c[7] * z) * z2) * z4)  # sin(a) / a
    c = _COSINE3
    cos_a = ((((c[0] + c[1] * z) + (c[2] + c[3] * z) * z2)
              + ((c[4] + c[5] * z) + (c[6] + c[7] * z) * z2) * z4) + c[8] * (z4 * z4))
    sin_a = a * r
    g = 3.0 - 4.0 * (sin_a * sin_a)  # sin(3 a) = sin(a) g
    k = _K3 * (sin_a * g)  # n sin(pi s) / pi^2
    return (
        (sin_a * _COS3[0] - cos_a * _SIN3[0]) * (k * (i01 * q1)),
        (sin_a * _COS3[1] - cos_a * _SIN3[1]) * (k * (i01 * q0)),
        (r * r) * (g * (1.0 / 3.0)),
        (sin_a * _COS3[3] - cos_a * _SIN3[3]) * (k * (i34 * q4)),
        (sin_a * _COS3[4] - cos_a * _SIN3[4]) * (k * (i34 * q3)),
        (sin_a * _COS3[5] - cos_a * _SIN3[5]) * (k * (i345 * p34)),
    )


@njit(**INLINED, fastmath=HIGH_FLAGS, error_model="numpy")
def weights10(s):
    """lan5 weights of the taps at ``d = s + 4 .. s - 5``, ``0 <= s <= 1/2``."""
    q0 = (s + 4.0) * (s + 4.0)
    q1 = (s + 3.0) * (s + 3.0)
    q2 = (s + 2.0) * (s + 2.0)
    q3 = (s + 1.0) * (s + 1.0)
    q5 = (s - 1.0) * (s - 1.0)
    q6 = (s - 2.0) * (s - 2.0)
    q7 = (s - 3.0) * (s - 3.0)
    q8 = (s - 4.0) * (s - 4.0)
    q9 = (s - 5.0) * (s - 5.0)
    p01 = q0 * q1
    p23 = q2 * q3
    p56 = q5 * q6
    p78 = q7 * q8
    pa = p01 * p23
    p789 = p78 * q9
    pb = p56 * p789
    inv = 1.0 / (pa * pb)
    ia = inv * pb  # 1 / (q0 q1 q2 q3)
    ib = inv * pa  # 1 / (q5 .. q9)
    i01 = ia * p23
    i23 = ia * p01
    i56 = ib * p789
    i789 = ib * p56
    i78 = i789 * q9
    a = s * (math.pi / 5.0)
    z = a * a
    z2 = z * z
    z4 = z2 * z2
    c = _SINC5
    r = ((c[0] + c[1] * z) + (c[2] + c[3] * z) * z2) + ((c[4] + c[5] * z) + c[6] * z2) * z4
    c = _COSINE5
    cos_a = ((c[0] + c[1] * z) + (c[2] + c[3] * z) * z2) + ((c[4] + c[5] * z) + c[6] * z2) * z4
    sin_a = a * r
    q = sin_a * sin_a
    g = 5.0 - q * (20.0 - 16.0 * q)  # sin(5 a) = sin(a) g
    k = _K5 * (sin_a * g)
    return (
        (sin_a * _COS5[0] - cos_a * _SIN5[0]) * (k * (i01 * q1)),
        (sin_a * _COS5[1] - cos_a * _SIN5[1]) * (k * (i01 * q0)),
        (sin_a * _COS5[2] - cos_a * _SIN5[2]) * (k * (i23 * q3)),
        (sin_a * _COS5[3] - cos_a * _SIN5[3]) * (k * (i23 * q2)),
        (r * r) * (g * (1.0 / 5.0)),
        (sin_a * _COS5[5] - cos_a * _SIN5[5]) * (k * (i56 * q6)),
        (sin_a * _COS5[6] - cos_a * _SIN5[6]) * (k * (i56 * q5)),
        (sin_a * _COS5[7] - cos_a * _SIN5[7]) * (k * (i78 * q8)),
        (sin_a * _COS5[8] - cos_a * _SIN5[8]) * (k * (i78 * q7)),
        (sin_a * _COS5[9] - cos_a * _SIN5[9]) * (k * (i789 * p78)),
    )


@njit(**INLINED)
def in_order6(w, flip):
    """The weights of :func:`weights6` in the order of their pixels: reversed if ``flip``."""
    if flip:
        return (w[5], w[4], w[3], w[2], w[1], w[0])
    return w


@njit(**INLINED)
def in_order10(w, flip):
    """The weights of :func:`weights10` in the order of their pixels: reversed if ``flip``."""
    if flip:
        return (w[9], w[8], w[7], w[6], w[5], w[4], w[3], w[2], w[1], w[0])
    return w


# The block loop's prepare steps (see _loop.blot_block_loop): the weights of the block's
# 2 BLOCK coordinates (x of its pixels, then y), in the order of the pixels, into rows of
# the scratch array, weight t of coordinate k at BLOCK_WEIGHTS + t * 2 BLOCK + k. One loop
# of constant trip count, both axes, all of the block: LLVM vectorises it (four
# coordinates an instruction with AVX2) with no scalar remainder. A row's last block,
# when shorter, also weighs the stale coordinates of the ones before it, never read.


@njit(inline="always")
def _prepare(scratch, weights, in_order, taps):
    src = np.uint64(BLOCK_X)
    row = np.uint64(BLOCK_WEIGHTS)
    b = np.uint64(2 * BLOCK)
    for k in range(b):
        s, flip = fold(scratch[src + k])
        w = in_order(weights(s), flip)
        for t in range(taps):
            scratch[row + np.uint64(t) * b + k] = w[t]


@njit(**HELPER, fastmath=HIGH_FLAGS)
def prepare6(scratch):
    """lan3 weights of a block's coordinates."""
    _prepare(scratch, weights6, in_order6, 6)


@njit(**HELPER, fastmath=HIGH_FLAGS)
def prepare10(scratch):
    """lan5 weights of a block's coordinates."""
    _prepare(scratch, weights10, in_order10, 10)


# The stencil sum of the block loop: sum_b wy[b] sum_a wx[a] patch[r + b, c + a] over
# the stencil of pixel k, the weights read where prepare6 or prepare10 left them. The rows
# go in a loop of fixed trip count (LLVM unrolls it, and loads each weight once), whose
# sum starts from -0.0, an exact identity (x + -0.0 is x, signed zeros included): numba
# copies and types one row, and each weight's read once.


# Unsigned row, column and weight indices, never negative here (see _loop): with signed
# ones numba wraps each of the 2 x 36 (2 x 100) reads of a lan3 (lan5) pixel around, and
# the exact Lanczos sums ran 4-7% (lan3) and 12% (lan5) slower (measured in one process).


@njit(inline="always")
def _row6(patch, r, c, w, o):
    b = np.uint64(2 * BLOCK)
    return ((patch[r, c] * w[o] + patch[r, c + _U[1]] * w[o + b])
            + (patch[r, c + _U[2]] * w[o + _U[2] * b]
               + patch[r, c + _U[3]] * w[o + _U[3] * b])
            + (patch[r, c + _U[4]] * w[o + _U[4] * b]
               + patch[r, c + _U[5]] * w[o + _U[5] * b]))


@njit(inline="always")
def _block_sum(patch, r, c, scratch, k, row, taps):
    x = np.uint64(BLOCK_WEIGHTS + k)
    y = x + np.uint64(BLOCK)
    r = np.uint64(r)
    c = np.uint64(c)
    acc = -0.0
    for b in range(taps):
        ub = np.uint64(b)
        acc += row(patch, r + ub, c, scratch, x) * scratch[y + ub * np.uint64(2 * BLOCK)]
    return acc


@njit(inline="always")
def block_sum6(patch, r, c, scratch, k):
    """The 6 x 6 stencil sum from row ``r``, column ``c`` of ``patch``, pixel ``k``'s weights."""
    return _block_sum(patch, r, c, scratch, k, _row6, 6)


@njit(inline="always")
def _row10(patch, r, c, w, o):
    b = np.uint64(2 * BLOCK)
    return (((patch[r, c] * w[o] + patch[r, c + _U[1]] * w[o + b])
             + (patch[r, c + _U[2]] * w[o + _U[2] * b]
                + patch[r, c + _U[3]] * w[o + _U[3] * b]))
            + ((patch[r, c + _U[4]] * w[o + _U[4] * b]
                + patch[r, c + _U[5]] * w[o + _U[5] * b])
               + (patch[r, c + _U[6]] * w[o + _U[6] * b]
                  + patch[r, c + _U[7]] * w[o + _U[7] * b]))
            + (patch[r, c + _U[8]] * w[o + _U[8] * b]
               + patch[r, c + _U[9]] * w[o + _U[9] * b]))


@njit(inline="always")
def block_sum10(patch, r, c, scratch, k):
    """The 10 x 10 stencil sum from row ``r``, column ``c`` of ``patch``, pixel ``k``'s weights."""
    return _block_sum(patch, r, c, scratch, k, _row10, 10)


# The block loop's general path (a stencil crossing an edge, an integer coordinate):
# prepare6 and prepare10 weigh every coordinate of the block, these included, so the
# general path only clips the stencil to the image and sums.


@njit(inline="always")
def _clipped_taps(v, order, size):
    """The stencil's pixels ``floor(v) - n + 1 .. floor(v) + n`` that lie on ``0 .. size - 1``
    at a distance below ``n`` from ``v`` (the last one is at ``n`` when ``v`` is an
    integer): the first one and the last, and the first's tap."""
    f = int(v)
    first = f - order + 1
    lo = max(first, 0)
    hi = min(f + order if v > f else f + order - 1, size - 1)
    return lo, hi, lo - first


@njit(**HELPER, fastmath=HIGH_FLAGS)
def block_general(patch, y0, x0, height, width, x, y, k, state, drizzle, scratch):
    """Any stencil of pixel ``k`` of the block, with the weights the prepare step left
    (either order: the state's). Taken near the edges and at integer coordinates only, so
    written for compile time: the rows and taps in loops."""
    order = int(state[LANCZOS_ORDER])
    xlo, xhi, tx = _clipped_taps(x, order, width)
    ylo, yhi, ty = _clipped_taps(y, order, height)
    b = 2 * BLOCK
    wx = BLOCK_WEIGHTS + k + tx * b
    wy = BLOCK_WEIGHTS + BLOCK + k + ty * b
    acc = 0.0
    for r in range(yhi - ylo + 1):
        row = 0.0
        for c in range(xhi - xlo + 1):
            row += patch[ylo - y0 + r, xlo - x0 + c] * scratch[wx + c * b]
        acc += row * scratch[wy + r * b]
    return acc
