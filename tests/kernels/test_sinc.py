"""The tapered sinc (issue 3, part 1): exact, accurate on sinusoids, bounded at edges."""

import numpy as np
import pytest

from tileblot import PRECISIONS, blot_image

from .. import naive
from ..strategies import edge_values

PERIODS = (4, 5, 6, 8, 11, 16)
MARGIN = 10  # past the 7 taps (and the rounding to the nearest pixel)


def sinusoid(period, angle, phase):
    c, s = np.cos(angle), np.sin(angle)
    return lambda x, y: np.sin(2 * np.pi * (c * x + s * y) / period + phase)


def sinusoid_error(interp, period, precision, rng, size=56):
    """Largest error, away from the edges, blotting a unit-amplitude plane wave sampled on
    the pixel grid at positions shifted by random sub-pixel amounts."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    worst = 0.0
    for angle in (0.0, 0.45, np.pi / 4, 1.2):
        f = sinusoid(period, angle, rng.uniform(0, 2 * np.pi))
        data = f(x, y).astype(np.float32)
        shift = rng.uniform(-0.5, 0.5, (2, *x.shape))
        pixmap = np.dstack([x + shift[0], y + shift[1]])
        out = blot_image(data, pixmap, interp=interp, precision=precision)
        inner = (slice(MARGIN, size - MARGIN),) * 2
        worst = max(worst, float(np.abs(out - f(pixmap[..., 0], pixmap[..., 1]))[inner].max()))
    return worst


@pytest.mark.parametrize("precision", PRECISIONS)
def test_exact_at_integer_positions(rng, precision):
    data = rng.normal(size=(13, 17)).astype(np.float32)
    y, x = np.mgrid[0:13, 0:17].astype(np.float64)
    out = blot_image(data, np.dstack([x, y]), interp="sinc", precision=precision)
    np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("period", PERIODS)
def test_sinusoid_error_is_small(rng, period, precision):
    assert sinusoid_error("sinc", period, precision, rng) < 2.5e-3


def test_beats_poly5_at_period_4(rng):
    sinc = sinusoid_error("sinc", 4, "high", rng)
    poly5 = sinusoid_error("poly5", 4, "high", rng)
    assert sinc < poly5 / 10, (sinc, poly5)


@pytest.mark.parametrize("sinscl", [0.5, 0.8, 1.0, 1.5])
@pytest.mark.parametrize("precision", PRECISIONS)
def test_finite_and_bounded_at_every_edge(rng, sinscl, precision):
    for shape in [(1, 1), (3, 20), (16, 15)]:
        height, width = shape
        data = rng.uniform(-1, 1, size=shape).astype(np.float32)
        xs = np.concatenate([np.arange(-1, width + 1, 0.125), edge_values(width)])
        ys = np.concatenate([np.arange(-1, height + 1, 0.125), edge_values(height)])
        pixmap = np.dstack(np.meshgrid(xs, ys))
        out = blot_image(data, pixmap, interp="sinc", sinscl=sinscl, precision=precision,
                         fillval=0.0)
        assert np.isfinite(out).all()
        assert np.abs(out).max() <= 2.0 * np.abs(data).max()


@pytest.mark.parametrize("precision", PRECISIONS)
def test_sinscl_times_offset_an_integer_is_finite(rng, precision):
    """sinscl = 2 at a half-pixel position makes sinscl * d = -1: one tap's denominator is
    zero. The limit is that tap alone; the kernel must not divide by zero."""
    data = rng.uniform(-1, 1, size=(10, 10)).astype(np.float32)
    pixmap = np.array([[[4.5, 3.0], [3.0, 6.5], [2.5, 7.5], [5.25, 5.0]]])
    out = blot_image(data, pixmap, interp="sinc", sinscl=2.0, precision=precision)
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= 2.0


def test_sincscl_is_an_alias_of_sinscl(rng):
    data = rng.normal(size=(20, 20)).astype(np.float32)
    pixmap = np.dstack([rng.uniform(0, 20, (6, 6)), rng.uniform(0, 20, (6, 6))])
    by_name = blot_image(data, pixmap, interp="sinc", sinscl=1.3)
    by_alias = blot_image(data, pixmap, interp="sinc", sincscl=1.3)
    np.testing.assert_array_equal(by_alias, by_name)
    assert not np.array_equal(by_name, blot_image(data, pixmap, interp="sinc"))


@pytest.mark.parametrize("sinscl", [0.7, 1.0, 1.3])
@pytest.mark.parametrize("precision", PRECISIONS)
def test_equals_the_definition(rng, sinscl, precision):
    data = rng.normal(size=(18, 21)).astype(np.float32)
    x = np.round(rng.uniform(-1, 22, 300) * 256) / 256  # exact in float32
    y = np.round(rng.uniform(-1, 19, 300) * 256) / 256
    x[:20] = np.round(x[:20]) + 1e-4  # |sinscl * d| < 1e-3: the pixel itself
    pixmap = np.dstack([x, y])
    got = blot_image(data, pixmap, interp="sinc", sinscl=sinscl, precision=precision)
    expected = naive.blot(data, pixmap, "sinc") if sinscl == 1.0 else np.array(
        [[naive.sinc(data.astype(np.float64), xi, yi, sinscl)
          if 0 <= xi < 21 and 0 <= yi < 18 else 0.0 for xi, yi in zip(x, y, strict=True)]]
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6 * np.abs(data).max())


@pytest.mark.parametrize("precision", PRECISIONS)
def test_sinscl_times_offset_an_integer_is_the_formulas_limit(rng, precision):
    """Where ``sinscl * d`` is an integer the formula divides by zero; the kernel takes its
    limit. The reference: the plain formula (``naive.sinc``, no special case) evaluated a
    hair away, from both sides, which converges to that limit."""
    data = rng.normal(size=(12, 12)).astype(np.float32)
    cases = [(4.5, 3.0, 2.0), (3.0, 6.5, 2.0), (2.25, 7.0, 4.0), (5.0, 5.75, 4.0)]
    for x, y, sinscl in cases:
        got = blot_image(data, np.array([[[x, y]]]), interp="sinc", sinscl=sinscl,
                         precision=precision)[0, 0]
        for side in (-1.0, 1.0):
            near = naive.sinc(data.astype(np.float64), x, y, sinscl * (1 + side * 1e-9))
            assert float(got) == pytest.approx(near, abs=1e-6 * float(np.abs(data).max()))
