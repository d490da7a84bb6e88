"""Coverage counts: the kernels' own on-image test, counted by the scan that plans windows."""

import numpy as np
import pytest

from tileblot._engine._coverage import COVERAGE_THRESHOLD, coverage_problem, percent
from tileblot._engine._tile import BlotParams, blot_tile_counted
from tileblot._kernels._registry import resolve

SHAPE = (30, 40)


def _numpy_count(pixmap, shape, precision):
    """Pixels the kernels interpolate: ``0 <= x < W`` and ``0 <= y < H``, NaN never."""
    xy = pixmap.astype(np.float32) if precision == "drizzle" else pixmap
    x, y = xy[..., 0], xy[..., 1]
    with np.errstate(invalid="ignore"):
        return int(((x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])).sum())


@pytest.mark.parametrize("precision", ["drizzle", "high"])
@pytest.mark.parametrize("budget", [None, 2000])
def test_the_count_is_the_pixels_the_kernels_do_not_fill(rng, precision, budget):
    pixmap = rng.uniform(-10, 50, size=(24, 20, 2))
    pixmap[3, 4] = (np.nan, 5.0)
    pixmap[5, 6] = (np.inf, 5.0)
    pixmap[7, 8] = (5.0, -np.inf)
    # Just below the edge in float64, on it once rounded to float32 (drizzle's rounding).
    pixmap[9, :3] = (np.nextafter(40.0, 0.0), 1.0)
    data = rng.normal(size=SHAPE).astype(np.float32) + 10.0  # never the fill value
    params = BlotParams(resolve("linear"), fillval=-999.0, iscale=1.0, precision=precision)
    out, count = blot_tile_counted(lambda w: (data, 0, 0), pixmap, SHAPE, params,
                                   budget=budget)
    assert count == _numpy_count(pixmap, SHAPE, precision)
    assert count == int((out != -999.0).sum())  # what the kernel did not fill
    assert 0 < count < out.size


def test_a_tile_that_misses_counts_zero():
    pixmap = np.full((5, 6, 2), 100.0)
    params = BlotParams(resolve("poly5"), fillval=0.0, iscale=1.0, precision="high")
    _, count = blot_tile_counted(lambda w: pytest.fail("read a window"), pixmap, SHAPE, params)
    assert count == 0


def test_the_problem_is_named_below_the_threshold_only():
    assert COVERAGE_THRESHOLD == 0.01
    assert "does not overlap the mosaic" in coverage_problem("out", 0, 1000, 0.0)
    assert "only 0.5% of the exposure's pixels" in coverage_problem("out", 5, 1000, 0.0)
    assert coverage_problem("out", 10, 1000, 0.0) is None  # exactly 1%: no warning
    assert coverage_problem("out", 500, 1000, 0.0) is None
    assert coverage_problem("out", 0, 0, 0.0) is None
    assert [percent(f) for f in (0.0, 0.003, 0.00003, 0.5, 1.0)] == [
        "0%", "0.3%", "0.003%", "50%", "100%"]


@pytest.mark.parametrize(("fraction", "shown"), [
    (1.0, "100%"), (0.99966, "99.97%"), (0.99948, "99.9%"), (1 - 1e-6, "99.9999%"),
    (0.42, "42%"), (0.005, "0.5%"), (3e-5, "0.003%"), (0.0, "0%")])
def test_a_percentage_is_never_rounded_up_to_all(fraction, shown):
    # 589624 of 589824 pixels on the mosaic was shown as 100%.
    assert percent(fraction) == shown
