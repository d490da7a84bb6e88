"""Every kernel against the slow reference implementations of tests/naive.py."""

import numpy as np
import pytest

from tileblot import INTERPOLATORS, blot_image
from tileblot._kernels._registry import resolve

from .. import naive
from ..strategies import edge_values


def random_coordinates(rng, shape, count, step=None):
    """``count`` coordinates spread over and around the image, plus all edge probes."""
    height, width = shape
    x = rng.uniform(-1.0, width + 1.0, count)
    y = rng.uniform(-1.0, height + 1.0, count)
    if step is not None:  # float32-exact fractions
        x, y = np.round(x / step) * step, np.round(y / step) * step
    probes_x = [v for v in edge_values(width) if np.isfinite(v)]
    probes_y = [v for v in edge_values(height) if np.isfinite(v)]
    px, py = np.meshgrid(probes_x, probes_y)
    return np.dstack([np.concatenate([x, px.ravel()]), np.concatenate([y, py.ravel()])])


@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_high_precision_equals_the_reference(rng, interp):
    m = resolve(interp).min_size
    for shape in [(m, m), (m + 1, m + 6), (17, 23)]:
        data = rng.normal(size=shape)
        pixmap = random_coordinates(rng, shape, 150)
        got = blot_image(data, pixmap, interp=interp, precision="high", fillval=np.nan)
        expected = naive.blot(data, pixmap, interp, fillval=np.nan)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(data).max())


@pytest.mark.parametrize("interp", ["nearest", "linear", "poly3", "poly5", "sinc"])
def test_drizzle_precision_equals_the_reference_where_drizzle_has_no_quirk(rng, interp):
    """With float32-exact coordinates, drizzle precision differs from the definition only by
    float32 rounding, except poly5's quirk below the last rows (see test_precision.py)."""
    m = resolve(interp).min_size
    for shape in [(m, m), (m + 2, m + 5), (19, 16)]:
        data = rng.normal(size=shape).astype(np.float32)
        pixmap = random_coordinates(rng, shape, 150, step=1 / 64)
        if interp == "poly5":
            pixmap = pixmap[:, np.floor(pixmap[0, :, 1]) + 3 < shape[0]]
        got = blot_image(data, pixmap, interp=interp, fillval=np.nan)
        expected = naive.blot(data, pixmap, interp, fillval=np.nan)
        np.testing.assert_allclose(got, expected, rtol=0, atol=4e-6 * np.abs(data).max())


@pytest.mark.parametrize("interp", ["poly3", "poly5", "sinc"])
def test_polynomials_and_constants_are_reproduced(rng, interp):
    """poly3 (poly5) reproduces cubics (quintics) exactly, with odd reflection linear
    functions right up to and past the edges; every normalised kernel keeps constants."""
    shape = (12, 14)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    pixmap = random_coordinates(rng, shape, 200)
    on = ((pixmap[..., 0] >= 0) & (pixmap[..., 0] < shape[1]) & (pixmap[..., 1] >= 0)
          & (pixmap[..., 1] < shape[0]))
    plane = 3.0 + 0.5 * x - 0.25 * y
    got = blot_image(plane, pixmap, interp=interp, precision="high")
    if interp == "sinc":  # repeats the edge pixel: constants only
        got = blot_image(np.full(shape, 2.5), pixmap, interp=interp, precision="high")
        np.testing.assert_allclose(got[on], 2.5, rtol=1e-6)
        return
    truth = 3.0 + 0.5 * pixmap[..., 0] - 0.25 * pixmap[..., 1]
    np.testing.assert_allclose(got[on], truth[on], rtol=1e-6, atol=1e-5)
