"""Each interpolator's halo, derived from its kernel: the farthest pixel it reads, measured.

A pixel counts as read when poisoning it with NaN changes the output (a read
with a zero weight still gives NaN). The measured reach, over coordinates that
include the edges, exact pixel positions, half pixels and the float32 rounding
cases near powers of two, must equal the registry's halo: not less (planning
would cut a read off) and not more (windows would be larger than needed).
"""

import numpy as np
import pytest

from tileblot import INTERPOLATORS, PRECISIONS
from tileblot._kernels._registry import resolve

from .test_contract import run_kernel

WIDTH = 140  # beyond 128, so that the rounding cases near 64 and 128 fit with their stencils
ROWS = 21
SEARCH = 12  # lines searched on either side of floor(v)
FRACTIONS = (0.0, 1e-6, 0.25, 0.5, 0.5 + 1e-6, 0.75, 1.0 - 1e-6)
BASES = (0, 1, 2, 3, 4, 7, 31, 62, 63, 64, 65, 126, 127, 128, 129, 135, 136, 137, 138, 139)


def _coordinates():
    values = {np.float32(b + f) for b in BASES for f in FRACTIONS}
    # Just below a power of two: x + n rounds up in float32 (drizzle's Lanczos bounds).
    values |= {np.nextafter(np.float32(b), np.float32(0)) for b in (32, 64, 128) for _ in (0,)}
    return sorted(v for v in values if 0 <= v < WIDTH)


def _reach(interp, precision, v, axis, image):
    """How far beyond ``floor(v)`` the kernel reads along ``axis`` (1: x, 0: y) for one point."""
    middle = np.float32(ROWS // 2 + 0.5)
    point = (v, middle) if axis == 1 else (middle, v)
    pixmap = np.array([[point]], dtype=np.float32)
    floor = int(np.floor(v))
    reach = 0
    # Every halo is below SEARCH; a read found at SEARCH itself would fail the test.
    for line in range(max(floor - SEARCH, 0), min(floor + SEARCH + 1, WIDTH)):
        index = (slice(None), line) if axis == 1 else (line, slice(None))
        saved = image[index].copy()
        image[index] = np.nan
        out = run_kernel(interp, image, 0, 0, image.shape, pixmap, precision)
        image[index] = saved
        if np.isnan(out[0, 0]):
            reach = max(reach, abs(line - floor))
    return reach


def _farthest(rng, interp, precisions):
    reaches = {}
    for axis, shape in ((1, (ROWS, WIDTH)), (0, (WIDTH, ROWS))):
        image = rng.normal(size=shape).astype(np.float32)
        for precision in precisions:
            for v in _coordinates():
                reaches[(axis, precision, float(v))] = _reach(interp, precision, v, axis, image)
    return max(reaches.values()), reaches


@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_halo_is_the_farthest_read(rng, interp):
    farthest, reaches = _farthest(rng, interp, PRECISIONS)
    halo = resolve(interp).halo
    where = [key for key, r in reaches.items() if r == farthest]
    assert farthest <= halo, f"{interp} reads {farthest} pixels beyond floor at {where[:3]}"
    assert farthest == halo, f"{interp}'s halo {halo} is larger than any read ({farthest})"
