"""Pixmaps between gwcs imaging WCSs (JWST, Roman), against gwcs evaluated directly.

The WCSs are built as JWST's pipelines build an imager's: detector pixels through a
polynomial distortion (with a fitted inverse) into a TAN projection, with a bounding box,
on either side. The reference is gwcs called once on the whole grid.
"""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from drizzle.utils import calc_pixmap

from tileblot import pixmap_from_wcs

from .skies import assert_same, gwcs_pixmap, make_gwcs

EXPOSURE = (96, 128)
# The exposure's bounding box leaves out its first 9 columns and its last 6 rows (as an
# imager's WCS excludes a vignetted or masked strip): NaN there.
EXPOSURE_BOX = ((8.5, 127.5), (-0.5, 89.5))
# Largest |stepsize - exact| on this distortion with stepsize 16: measured 4.3e-3 px on
# 2048 x 2048 (docs/pixmaps.rst), 2.8e-3 px on the 512 x 512 cut-out below (the cubic
# terms add at the edges of the full detector).
STEP16_ERROR = 5e-3


def scene(distorted):
    """(exposure, mosaic) gwcs pair; ``distorted`` in "input", "output", "both"."""
    exposure = make_gwcs(EXPOSURE, rotation=25.0, crpix=(40.0, 30.0),
                         distortion=distorted in ("input", "both"), bounding_box=EXPOSURE_BOX)
    # The mosaic: finer pixels, its own bounding box, and part of the exposure hangs off it.
    mosaic = make_gwcs((300, 300), scale=0.02, rotation=-10.0, crpix=(90.0, 130.0),
                       distortion=distorted in ("output", "both"),
                       bounding_box=((-0.5, 299.5), (-0.5, 299.5)))
    return exposure, mosaic


@pytest.mark.parametrize(
    ("distorted", "chunks"), [("input", 32), ("output", (17, 50)), ("both", None)]
)
def test_lazy_and_eager_pixmaps_equal_gwcs_evaluated_directly(distorted, chunks):
    exposure, mosaic = scene(distorted)
    expected = gwcs_pixmap(exposure, mosaic, EXPOSURE)
    pixmap = pixmap_from_wcs(exposure, mosaic, EXPOSURE, chunks=chunks)
    lazy = pixmap.compute(scheduler="threads", num_workers=4)
    eager = np.asarray(pixmap_from_wcs(exposure, mosaic, EXPOSURE, chunks=EXPOSURE))
    assert_same(lazy, expected)
    assert_same(eager, expected)
    # The NaN pattern is the exposure's bounding box, both coordinates together.
    undefined = np.isnan(expected).any(axis=2)
    inside = np.zeros(EXPOSURE, dtype=bool)
    inside[:90, 9:] = True
    assert_same(undefined, ~inside)
    assert np.isnan(lazy[undefined]).all()
    # The mosaic's bounding box is ignored (calc_pixmap's default): pixels off it keep values.
    assert (lazy[inside] > 299.5).any() or (lazy[inside] < -0.5).any()


def test_equals_drizzle_calc_pixmap_on_gwcs():
    exposure, mosaic = scene("both")
    expected = calc_pixmap(copy.deepcopy(exposure), copy.deepcopy(mosaic), EXPOSURE)
    assert_same(pixmap_from_wcs(exposure, mosaic, EXPOSURE, chunks=40).compute(), expected)


def test_mosaic_bounding_box_kept_gives_nan_off_the_mosaic():
    exposure, mosaic = scene("input")
    expected = gwcs_pixmap(exposure, mosaic, EXPOSURE, to_bounding_box=True)
    actual = pixmap_from_wcs(exposure, mosaic, EXPOSURE, chunks=32, disable_bbox="none")
    assert_same(actual.compute(), expected)
    ignored = gwcs_pixmap(exposure, mosaic, EXPOSURE)
    assert np.isnan(expected).sum() > np.isnan(ignored).sum()  # the box takes pixels away


def test_shape_from_the_gwcs_bounding_box():
    # A datamodel's gwcs has a bounding box and no array_shape: the grid is the box's extent.
    exposure, mosaic = scene("input")
    assert exposure.array_shape is None
    pixmap = pixmap_from_wcs(exposure, mosaic)
    assert pixmap.shape == (90, 128, 2)
    assert_same(pixmap.compute(), gwcs_pixmap(exposure, mosaic, (90, 128)))


def test_stepsize_on_distorted_gwcs_keeps_the_nan_pattern_and_the_documented_error():
    exposure = make_gwcs((512, 512), rotation=25.0, bounding_box=((20.5, 511.5), (-0.5, 500.5)))
    mosaic = make_gwcs((900, 900), scale=0.02)
    exact = gwcs_pixmap(exposure, mosaic, (512, 512))
    sparse = pixmap_from_wcs(exposure, mosaic, (512, 512), stepsize=16, chunks=200).compute()
    assert_same(np.isnan(sparse), np.isnan(exact))
    error = np.nanmax(np.abs(sparse - exact))
    assert 1e-3 < error < STEP16_ERROR
    # Nodes inside the box are evaluated, not interpolated: exact there.
    grid = np.r_[32:500:16]
    assert_same(sparse[np.ix_(grid, grid)], exact[np.ix_(grid, grid)])


def test_gwcs_is_copied_so_later_changes_do_not_leak_in():
    exposure, mosaic = scene("input")
    pixmap = pixmap_from_wcs(exposure, mosaic, EXPOSURE, chunks=48)
    expected = gwcs_pixmap(exposure, mosaic, EXPOSURE)
    exposure.bounding_box = None  # changed after the graph was built
    assert_same(pixmap.compute(), expected)
    assert mosaic.bounding_box is not None  # the caller's mosaic keeps its box


_NAME_IN_A_NEW_PROCESS = """
from tests.pixmaps.test_gwcs import scene
from tileblot import pixmap_from_wcs
print(pixmap_from_wcs(*scene("both"), chunks=32).name)
"""


def test_equal_gwcs_give_the_same_pixmap_in_any_process():
    """dask's tokenize gives every gwcs object its own token (its astropy models do): a
    pipeline that loaded its WCSs again was refused every resume, "pixmap was modified"."""
    name = pixmap_from_wcs(*scene("both"), chunks=32).name
    assert pixmap_from_wcs(*scene("both"), chunks=32).name == name  # rebuilt objects
    again = subprocess.run([sys.executable, "-c", _NAME_IN_A_NEW_PROCESS], check=True,
                           capture_output=True, text=True, timeout=120,
                           cwd=Path(__file__).parents[2])
    assert again.stdout.strip() == name
    exposure, mosaic = scene("both")
    moved = make_gwcs(EXPOSURE, rotation=25.0, crpix=(40.0, 30.000001), distortion=True,
                      bounding_box=EXPOSURE_BOX)
    assert pixmap_from_wcs(moved, mosaic, chunks=32).name != name
    assert pixmap_from_wcs(exposure, mosaic, chunks=32, disable_bbox="both").name != name


def test_a_job_on_gwcs_pixmaps_resumes_with_its_wcs_loaded_again(tmp_path):
    import tileblot

    data = np.random.default_rng(1).normal(size=(300, 300)).astype(np.float32)
    store = tmp_path / "out.zarr"
    first = tileblot.blot_to_zarr(data, pixmap_from_wcs(*scene("input"), chunks=32), store,
                                  interp="linear", progress=False)[...]
    (store / "tiles_done" / "c" / "1" / "2").unlink()  # as if killed before that tile
    image = tileblot.blot_to_zarr(data, pixmap_from_wcs(*scene("input"), chunks=32), store,
                                  interp="linear", resume=True, progress=False)
    np.testing.assert_array_equal(image[...], first)
    assert tileblot.open_output(store).complete
