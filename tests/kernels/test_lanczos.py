"""Lanczos specifics: drizzle's table against the exact kernel, exact weights, tiny offsets."""

import math

import mpmath
import numpy as np
import pytest

from tileblot import blot_image
from tileblot._kernels import _lanczos_exact

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


def _lanczos(u, order):
    """``L(u)`` in 40-digit arithmetic, straight from the definition."""
    u = mpmath.mpf(u)
    if u == 0:
        return mpmath.mpf(1)
    if abs(u) >= order:
        return mpmath.mpf(0)
    pu = mpmath.pi * u
    return mpmath.sin(pu) * mpmath.sin(pu / order) / (pu * pu / order)


@pytest.mark.parametrize(("order", "weights"),
                         [(3, _lanczos_exact.exact6), (5, _lanczos_exact.exact10)])
def test_exact_weights_are_the_formula_to_float64_rounding(rng, order, weights):
    """The fast path's weights (angle addition, sin(n a) from sin(a), folding s into [0, 1/2])
    against the formula: within 4 ulp(1) / 2, where the direct float64 formula is within 3."""
    coordinates = [*rng.uniform(0.0, 60.0, 300), 7.5, np.nextafter(7.5, 0), np.nextafter(7.5, 9),
                   np.nextafter(8.0, 0), 3 + 1e-7, 3 + 1e-12, 3 + 1e-300, 12.25, 12.75]
    worst = 0.0
    with mpmath.workdps(40):
        for v in map(float, coordinates):
            first, w = weights(v)
            assert first == math.floor(v) and len(w) == 2 * order
            for t, weight in enumerate(w):
                exact = _lanczos(mpmath.mpf(v) - (first - order + 1 + t), order)
                worst = max(worst, abs(weight - float(exact)))
    assert worst <= 8 * 2.0**-53, worst / 2.0**-53
