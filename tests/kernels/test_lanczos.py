"""Lanczos specifics: drizzle's table against the exact kernel, tiny offsets."""

import numpy as np
import pytest

from tileblot import blot_image

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
