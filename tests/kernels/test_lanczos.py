"""Lanczos specifics: drizzle's table against the exact kernel, exact weights, tiny offsets."""

import math

import mpmath
import numpy as np
import pytest
from numba import njit

from tileblot import blot_image
from tileblot._kernels import _lanczos_exact
from tileblot._kernels._layout import BLOCK, BLOCK_WEIGHTS, BLOCK_X, BLOCK_Y, SCRATCH_SIZE

from .. import naive


@pytest.mark.parametrize("interp", ["lan3", "lan5"])
def test_table_and_exact_weights_differ_by_the_table_step_only(rng, interp):
    data = rng.normal(size=(20, 20)).astype(np.float32)
    pixmap = np.dstack([rng.uniform(0, 20, (10, 10)), rng.uniform(0, 20, (10, 10))])
    table = blot_image(data, pixmap, interp=interp, precision="drizzle")
    exact = blot_image(data, pixmap, interp=interp, precision="high")
    difference = np.abs(table - exact).max()
    # Truncating u to the 0.003 grid moves each weight by at most ~|L'| * 0.003.
    assert 0 < difference < 0.1 * np.abs(data).max()


@pytest.mark.parametrize("offset", [1e-200, 5e-324, 1e-160])
@pytest.mark.parametrize("interp", ["lan3", "lan5"])
def test_high_precision_handles_offsets_too_small_to_square(interp, offset):
    """A coordinate a tiny, nonzero distance from a pixel: L(u) -> 1 as u -> 0."""
    data = np.arange(42.0).reshape(6, 7)
    pixmap = np.array([[[offset, 2.0], [3.0, offset], [3.0 + offset, 2.0]]])
    got = blot_image(data, pixmap, interp=interp, precision="high")
    expected = naive.blot(data, np.array([[[0.0, 2.0], [3.0, 0.0], [3.0, 2.0]]]), interp)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("interp", ["lan3", "lan5"])
def test_the_block_loop_on_rows_of_several_blocks(rng, interp):
    """The exact weights go a block of BLOCK pixels of a row at a time: rows of two blocks
    and a part, each block mixing whole stencils, edges, integer, off-image and NaN
    coordinates, and the next row's short last block finding the stale numbers of the row
    before in its unused part."""
    data = rng.normal(size=(40, 50))
    ny, nx = 5, 2 * BLOCK + 5
    pixmap = np.dstack([rng.uniform(-2.0, 52.0, (ny, nx)), rng.uniform(-2.0, 42.0, (ny, nx))])
    pixmap[1, ::7] = np.nan
    pixmap[2, ::5] = np.round(pixmap[2, ::5])
    pixmap[3] = pixmap[2, ::-1]
    pixmap[4, :, 0] = rng.uniform(6.0, 44.0, nx)  # whole stencils only
    pixmap[4, :, 1] = rng.uniform(6.0, 34.0, nx)
    got = blot_image(data, pixmap, interp=interp, precision="high", fillval=np.nan)
    expected = naive.blot(data, pixmap, interp, fillval=np.nan)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(data).max())
    assert np.isnan(got[1, ::7]).all() and not np.isnan(got[4]).any()


def _lanczos(u, order):
    """``L(u)`` in 40-digit arithmetic, straight from the definition."""
    u = mpmath.mpf(u)
    if u == 0:
        return mpmath.mpf(1)
    if abs(u) >= order:
        return mpmath.mpf(0)
    pu = mpmath.pi * u
    return mpmath.sin(pu) * mpmath.sin(pu / order) / (pu * pu / order)


# The weights are compiled helpers (no Python wrapper): called from compiled code only,
# as the block loop calls them, blocks of BLOCK coordinates on both axes at once.


@njit
def _block_weights(values, order):
    """``(len(values), 2, 2 order)``: each value's weights, as x and as y, from the prepare
    step of ``order`` (weight t of coordinate k at BLOCK_WEIGHTS + t * 2 BLOCK + k, y after
    the BLOCK x)."""
    taps = 2 * order
    found = np.empty((len(values), 2, taps))
    scratch = np.zeros(SCRATCH_SIZE)
    for start in range(0, len(values), BLOCK):
        n = min(BLOCK, len(values) - start)
        for k in range(n):
            scratch[BLOCK_X + k] = values[start + k]
            scratch[BLOCK_Y + k] = values[start + k]
        if order == 3:
            _lanczos_exact.prepare6(scratch)
        else:
            _lanczos_exact.prepare10(scratch)
        for k in range(n):
            for axis in range(2):
                for t in range(taps):
                    found[start + k, axis, t] = scratch[BLOCK_WEIGHTS + t * 2 * BLOCK
                                                        + axis * BLOCK + k]
    return found


def _fast_weights(coordinates, order):
    """``floor(v)`` and the weights of pixels ``floor(v) - n + 1 .. floor(v) + n``, in the
    order of the pixels, for each ``v`` of ``coordinates``, a block at a time, as x and as y."""
    found = _block_weights(np.asarray(coordinates, dtype=np.float64), order)
    np.testing.assert_array_equal(found[:, 0], found[:, 1])  # the same on both axes
    return [(math.floor(v), tuple(w)) for v, w in zip(coordinates, found[:, 0], strict=True)]


COORDINATES = [7.5, np.nextafter(7.5, 0), np.nextafter(7.5, 9), np.nextafter(8.0, 0), 3 + 1e-7,
               3 + 1e-12, 3 + 1e-300, 12.25, 12.75, 5.0, 6.0 + 1e-9, np.nextafter(6.0 + 1e-9, 0),
               9.0 - 1e-9]


@pytest.mark.parametrize("order", [3, 5])
def test_exact_weights_are_the_formula_to_float64_rounding(rng, order):
    """The weights against the formula in 40-digit arithmetic: within 4 ulp(1) / 2 (angle
    addition, sin(n a) from sin(a), s folded into [0, 1/2]), where the direct float64
    formula is within 3. The general path (edges, integer coordinates) reads the same
    weights."""
    coordinates = [*map(float, rng.uniform(0.0, 60.0, 300)), *COORDINATES]
    worst = 0.0
    with mpmath.workdps(40):
        for v, found in zip(coordinates, _fast_weights(coordinates, order), strict=True):
            first, w = found
            assert first == math.floor(v) and len(w) == 2 * order
            for t, weight in enumerate(w):
                exact = _lanczos(mpmath.mpf(v) - (first - order + 1 + t), order)
                worst = max(worst, abs(weight - float(exact)))
    assert worst <= 8 * 2.0**-53, worst / 2.0**-53


@pytest.mark.parametrize("order", [3, 5])
def test_weights_are_exact_zeros_and_ones_at_integers(order):
    for v in (0.0, 4.0, 17.0):
        ((_, w),) = _fast_weights([v], order)
        centre = order - 1
        assert w[centre] == 1.0 and np.all(np.delete(w, centre) == 0.0), w


@pytest.mark.parametrize("interp", ["lan3", "lan5"])
def test_integer_coordinates_give_the_pixel_everywhere(interp):
    """At an integer coordinate the value is the pixel's, exactly, inside the image and at
    each edge: the general path leaves out the pixel at distance n (weight 0, but its
    NaN would poison the sum) and the pixels off the image."""
    order = int(interp[-1])
    rng = np.random.default_rng(1)
    data = rng.normal(size=(30, 40))
    ys, xs = np.meshgrid([0, 1, order, 12, 29 - order, 28, 29], [0, 2, 20, 39 - order, 39],
                         indexing="ij")
    pixmap = np.dstack([xs, ys]).astype(np.float64)
    poisoned = data.copy()
    poisoned[:, 20 + order] = np.nan  # the distance-n pixel of the column x = 20
    poisoned[12 + order, :] = np.nan  # and of the row y = 12 (no other stencil reaches)
    for image in (data, poisoned):
        got = blot_image(image, pixmap, interp=interp, precision="high")
        np.testing.assert_array_equal(got, image[ys, xs].astype(np.float32))
