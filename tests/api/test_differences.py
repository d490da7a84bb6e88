"""Each documented difference from drizzle 3.0 (docs/differences.rst), one test each."""

import numpy as np
import pytest
from drizzle.resample import blot_image as drizzle_blot_image

from tileblot import INTERPOLATORS, PRECISIONS, blot_image
from tileblot._kernels._registry import resolve

from .. import naive
from ..oracle import ORACLE_INTERPOLATORS, drizzle_blot
from ..strategies import affine_pixmap


@pytest.mark.parametrize("precision", PRECISIONS)
def test_nearest_rounding_to_the_edge_takes_the_last_column_and_row(rng, precision):
    """drizzle reads one past its array when x rounds to W (y to H); we take the edge."""
    height, width = 7, 9
    data = rng.normal(size=(height, width)).astype(np.float32)
    below_w = float(np.nextafter(np.float32(width), np.float32(0)))
    below_h = float(np.nextafter(np.float32(height), np.float32(0)))
    xs = [width - 0.5, width - 0.25, below_w]
    ys = [height - 0.5, height - 0.1, below_h]
    corners = [(x, y) for x, y in zip(xs, ys, strict=True)]
    pixmap = np.array([[(x, 3.0) for x in xs], [(4.0, y) for y in ys], corners])
    out = blot_image(data, pixmap, interp="nearest", precision=precision)
    np.testing.assert_array_equal(out[0], data[3, width - 1])
    np.testing.assert_array_equal(out[1], data[height - 1, 4])
    np.testing.assert_array_equal(out[2], data[height - 1, width - 1])


@pytest.mark.parametrize("precision", PRECISIONS)
def test_poly3_on_the_last_row_uses_odd_reflection(rng, precision):
    """drizzle reads outside its stencil when int(y) == H - 1; we reflect about the last row."""
    height, width = 6, 8
    data = rng.normal(size=(height, width)).astype(np.float32)
    # Fractions that are exact in float32, so drizzle's rounding plays no part.
    ys = [height - 1.0, height - 1 + 1 / 64, height - 0.75, height - 0.5, height - 1 / 128]
    xs = [0.0, 0.375, 3.5, width - 1.25, width - 1 / 32]
    pixmap = np.array([[(x, y) for x in xs] for y in ys])
    out = blot_image(data, pixmap, interp="poly3", precision=precision)
    expected = naive.blot(data, pixmap, "poly3")
    np.testing.assert_allclose(out, expected, rtol=0, atol=2e-6 * np.abs(data).max())
    # The reflection is not a no-op: it differs from clamping at the edge row.
    assert np.abs(out - data[height - 1, 0]).max() > 1e-3


@pytest.mark.parametrize("interp", ["linear", "poly3", "poly5", "lan3", "lan5"])
def test_infinite_data_values(interp):
    """linear and Lanczos give drizzle's +-inf; poly3/poly5 give +-inf where drizzle has NaN."""
    data = np.zeros((8, 8), np.float32)
    data[4, 4] = np.inf
    pixmap = np.array([[[4.3, 4.6], [2.2, 3.3], [1.5, 1.5], [6.5, 6.5]]])
    ours = blot_image(data, pixmap, interp=interp)
    theirs = drizzle_blot(data, pixmap, interp)
    assert not np.isnan(ours).any()
    assert ours[0, 0] == np.inf
    if interp != "linear":  # (2.2, 3.3): inf is in the stencil, with a negative weight
        assert ours[0, 1] == -np.inf
    if interp.startswith("poly"):
        assert np.isnan(theirs[0, :2]).all()
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("interp", ["poly3", "poly5"])
@pytest.mark.parametrize("precision", ["drizzle", "high"])
def test_an_infinite_pixel_reflected_at_the_edge_gives_nan_as_in_drizzle(interp, precision):
    # The reflection weighs the edge row's infinite pixel twice, with weights of opposite sign.
    data = np.zeros((8, 8), np.float32)
    data[0, 4] = np.inf
    pixmap = np.array([[[4.3, 0.4], [4.3, 3.4]]])
    ours = blot_image(data, pixmap, interp=interp, precision=precision)
    np.testing.assert_array_equal(ours, drizzle_blot(data, pixmap, interp))
    assert np.isnan(ours[0, 0])


def test_finite_data_near_float32s_largest_value_stays_finite():
    """drizzle's poly3 differences of float32 samples overflow to NaN: the example of the docs.

    Those two NaNs always; in the full suite drizzle once gave a third, at (2, 1): on a
    3 x 3 image its stencils also read past the array (see the last-row test above), and
    what lies there varies from run to run."""
    data = np.zeros((3, 3), np.float32)
    data[2, 2] = 8.5e37
    y, x = np.mgrid[0:3, 0:3].astype(np.float64)
    pixmap = np.dstack([x, y])
    theirs = drizzle_blot_image(data, pixmap, interp="poly3", fillval=0.0, iscale=1.0)
    assert np.isnan(theirs[1, 2]) and np.isnan(theirs[2, 2])
    np.testing.assert_array_equal(blot_image(data, pixmap, interp="poly3"), data)


@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_images_smaller_than_the_stencil_raise(interp):
    min_size = resolve(interp).min_size
    pixmap = np.zeros((2, 2, 2))
    if min_size == 1:
        # Every interpolator with no minimum works on a single pixel.
        out = blot_image(np.full((1, 1), 3.0, np.float32), pixmap, interp=interp)
        np.testing.assert_allclose(out, 3.0, rtol=1e-6)
        return
    for shape in [(min_size - 1, 10), (10, min_size - 1), (1, 1)]:
        with pytest.raises(ValueError, match=f"{interp}.*at least {min_size}"):
            blot_image(np.ones(shape, np.float32), pixmap, interp=interp)
    out = blot_image(np.full((min_size, min_size), 3.0, np.float32), pixmap, interp=interp)
    np.testing.assert_allclose(out, 3.0, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("interp", ORACLE_INTERPOLATORS)
def test_non_finite_coordinates_get_fillval(rng, interp, bad):
    data = rng.normal(size=(10, 12)).astype(np.float32)
    pixmap = affine_pixmap((5, 6), (5.3, 4.4), 1.0, 0.1)
    expected = blot_image(data, pixmap, interp=interp, fillval=-9.0)
    pixmap[1, 2, 0] = bad
    pixmap[3, 4, 1] = bad
    pixmap[4, 5] = bad
    out = blot_image(data, pixmap, interp=interp, fillval=-9.0)
    assert out[1, 2] == out[3, 4] == out[4, 5] == -9.0
    others = np.ones(out.shape, bool)
    others[1, 2] = others[3, 4] = others[4, 5] = False
    np.testing.assert_array_equal(out[others], expected[others])
    if np.isnan(bad):
        with pytest.raises(Exception, match="NaN in pixmap"):
            drizzle_blot(data, pixmap, interp, fillval=-9.0)
    else:  # drizzle too treats infinities as off the image
        np.testing.assert_array_equal(drizzle_blot(data, pixmap, interp, fillval=-9.0)[4, 5], -9.0)


@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_zero_and_negative_iscale_are_accepted(rng, interp):
    """drizzle raises for iscale <= 0; we scale by it like any other factor."""
    data = rng.normal(size=(10, 12)).astype(np.float32)
    pixmap = affine_pixmap((6, 7), (8.0, 6.0), 1.3, 0.5)  # partly off the image
    positive = blot_image(data, pixmap, interp=interp, iscale=2.5, fillval=4.0)
    off = positive == 4.0
    assert off.any() and not off.all()
    negative = blot_image(data, pixmap, interp=interp, iscale=-2.5, fillval=4.0)
    np.testing.assert_array_equal(negative[~off], -positive[~off])
    np.testing.assert_array_equal(negative[off], 4.0)
    zero = blot_image(data, pixmap, interp=interp, iscale=0.0, fillval=4.0)
    np.testing.assert_array_equal(zero[~off], 0.0)
    np.testing.assert_array_equal(zero[off], 4.0)
    if interp != "sinc":
        for iscale in (0.0, -2.5):
            with pytest.raises(Exception, match="iscale"):
                drizzle_blot(data, pixmap, interp, iscale=iscale)


def test_integer_data_is_accepted(rng):
    """drizzle rejects integer arrays; we convert them as we do any real dtype."""
    data = rng.integers(-50, 50, size=(9, 9))
    pixmap = affine_pixmap((4, 4), (4.0, 4.0), 1.1, 0.3)
    np.testing.assert_array_equal(
        blot_image(data.astype(np.int32), pixmap), blot_image(data.astype(np.float32), pixmap)
    )
    with pytest.raises(Exception, match="Invalid input array"):
        drizzle_blot_image(data.astype(np.int32), pixmap)


def test_sinc_exists_but_not_in_drizzle(rng):
    data = rng.normal(size=(20, 20)).astype(np.float32)
    pixmap = affine_pixmap((4, 4), (10.0, 10.0), 1.0, 0.0)
    assert np.isfinite(blot_image(data, pixmap, interp="sinc")).all()
    with pytest.raises(Exception, match="sinc"):
        drizzle_blot_image(data, pixmap, interp="sinc")
