"""The ``stepsize`` grid: its error bound, its global nodes, tiling independence."""

import numpy as np
import pytest
from drizzle.utils import calc_pixmap
from hypothesis import given
from hypothesis import strategies as st

from tileblot import pixmap_from_wcs
from tileblot._pixmaps._sparse import nodes

from .skies import assert_same, exposure_and_mosaic, make_wcs

# Largest |stepsize - exact| for SIP_ACS_LIKE with stepsize 16 (measured: 1.26e-3 px on a
# 2k x 2k exposure, see docs/pixmaps.rst; the quadratic terms dominate, so it is the same on
# a smaller grid).
STEP16_ERROR = 1.5e-3


def test_stepsize_error_is_within_the_documented_bound():
    exposure = make_wcs((512, 512), rotation=25.0, sip=True)
    mosaic = make_wcs((900, 900), scale=0.04)
    exact = calc_pixmap(exposure, mosaic)
    sparse = pixmap_from_wcs(exposure, mosaic, stepsize=16, chunks=200).compute()
    error = np.abs(sparse - exact).max()
    assert 1e-4 < error < STEP16_ERROR
    # On the sparse grid's nodes (and the last row and column) the values are exact.
    grid = np.r_[0:512:16, 511]
    assert_same(sparse[np.ix_(grid, grid)], exact[np.ix_(grid, grid)])


@given(st.integers(1, 300), st.integers(1, 40), st.data())
def test_sparse_nodes_enclose_the_tile_and_belong_to_the_global_grid(length, stepsize, data):
    start = data.draw(st.integers(0, length - 1))
    stop = data.draw(st.integers(start + 1, length))
    found = nodes(start, stop, length, stepsize)
    grid = set(range(0, length, stepsize)) | {length - 1}
    assert set(found.tolist()) <= grid
    assert found[0] <= start and found[-1] >= stop - 1
    assert (np.diff(found) > 0).all()
    # No more nodes than needed: all but the two enclosing ones lie strictly inside the tile.
    assert (found[1:-1] > start).all() and (found[1:-1] < stop - 1).all()


def test_stepsize_larger_than_the_image_and_one_pixel_tiles():
    exposure, mosaic = exposure_and_mosaic((9, 12))
    exact = calc_pixmap(exposure, mosaic)
    coarse = pixmap_from_wcs(exposure, mosaic, stepsize=100).compute()
    assert_same(coarse[[0, 0, -1, -1], [0, -1, 0, -1]], exact[[0, 0, -1, -1], [0, -1, 0, -1]])
    assert np.abs(coarse - exact).max() < 1e-3
    assert_same(
        pixmap_from_wcs(exposure, mosaic, stepsize=4, chunks=1).compute(),
        pixmap_from_wcs(exposure, mosaic, stepsize=4).compute(),
    )


def _all_sky(projection, crval, crpix, degrees):
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    wcs.wcs.crval = crval
    wcs.wcs.crpix = crpix
    wcs.wcs.cdelt = [-degrees, degrees]
    wcs.wcs.set()
    return wcs


def _car_all_sky():
    # 3600 x 1800 pixels at 0.1 degree, centred on RA 180: the seam RA = 0 / 360 runs down
    # the mosaic's left and right edges.
    return _all_sky("CAR", [180.0, 0.0], [1800.5, 900.5], 0.1)


@pytest.mark.parametrize("rotation", [0.0, 30.0, 90.0])
@pytest.mark.parametrize("stepsize", [7, 16])
def test_stepsize_never_interpolates_across_a_jump_of_the_map(stepsize, rotation):
    """An exposure across RA = 0 on an all-sky mosaic: the map jumps by the mosaic's width
    between neighbouring pixels. Interpolated across, pixels near x = 0 were put near the
    middle of the sky (1800 px off), still on the mosaic and so silently wrong."""
    exposure = make_wcs((300, 400), scale=36.0, crval=(0.0, 10.0),  # 0.01 degree pixels
                        rotation=rotation)
    mosaic = _car_all_sky()
    exact = calc_pixmap(exposure, mosaic, (300, 400))
    assert exact[..., 0].min() < 10 and exact[..., 0].max() > 3590  # it does cross
    sparse = pixmap_from_wcs(exposure, mosaic, (300, 400), stepsize=stepsize).compute()
    assert np.abs(sparse - exact).max() < 1e-3
    # Checked per cell and per node-line segment: the same in every tiling.
    assert_same(pixmap_from_wcs(exposure, mosaic, (300, 400), stepsize=stepsize,
                                chunks=(stepsize * 3, 37)).compute(), sparse)


def test_an_all_sky_exposure_centred_on_the_seam_is_checked():
    """An AIT all-sky exposure centred on RA = 0, onto a CAR mosaic whose seam that is: its
    corners are undefined and its middle pixels straddle the seam, so the scale sampled at
    the middle was the jump itself, and no cell was checked (pixels 720 px off)."""
    mosaic = _car_all_sky()  # 0.1 degree pixels
    exposure = _all_sky("AIT", [0.0, 0.0], [360.5, 180.5], 0.5)
    exact = pixmap_from_wcs(exposure, mosaic, (360, 720)).compute()
    sparse = pixmap_from_wcs(exposure, mosaic, (360, 720), stepsize=2).compute()
    np.testing.assert_array_equal(np.isnan(sparse), np.isnan(exact))
    # What is left is the curvature of a projection of the whole sky, over 1-degree cells.
    assert np.nanmax(np.abs(sparse - exact)) < 10
