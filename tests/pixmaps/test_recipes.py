"""docs/pixmaps.rst's outlier-detection recipes, run and checked against drizzle."""

import copy
from pathlib import Path

import numpy as np
import zarr
from drizzle.resample import blot_image as drizzle_blot_image
from drizzle.utils import calc_pixmap

from tileblot import blot_image, pixmap_from_wcs

from ..oracle import assert_matches_drizzle, tolerance
from .skies import assert_same, make_wcs


def test_outlier_detection_recipe_blots_a_median_mosaic_onto_each_exposure(rng):
    """docs/pixmaps.rst's recipe: linear blot, NaN fill, pixmap from the two WCSs."""
    mosaic_wcs = make_wcs((240, 260), scale=0.03)
    y, x = np.mgrid[0:240, 0:260]
    median = (np.sin(x / 9.0) * np.cos(y / 13.0) + rng.normal(0, 0.05, (240, 260))).astype(
        np.float32
    )
    exposures = [
        make_wcs((80, 100), rotation=0.0, sip=True),
        make_wcs((80, 100), rotation=30.0, sip=True, crpix=[20.0, 10.0]),
        make_wcs((80, 100), rotation=-75.0, sip=True, crpix=[110.0, 70.0]),
    ]
    for exposure_wcs in exposures:
        pixmap = pixmap_from_wcs(exposure_wcs, mosaic_wcs).compute()
        blotted = blot_image(median, pixmap, interp="linear", fillval=np.nan)

        expected_pixmap = calc_pixmap(exposure_wcs, mosaic_wcs)
        assert np.isfinite(expected_pixmap).all()
        assert_same(pixmap, expected_pixmap)
        assert_matches_drizzle(blotted, median, expected_pixmap, "linear", fillval=np.nan)
        px, py = pixmap[..., 0], pixmap[..., 1]
        off = (px < 0) | (px >= 260) | (py < 0) | (py >= 240)
        assert_same(np.isnan(blotted), off)
    assert off.any() and not off.all()  # the last exposure hangs off the mosaic


def _docs_block(marker):
    """The code block after ``.. marker`` in docs/pixmaps.rst, as source text."""
    text = (Path(__file__).parents[2] / "docs" / "pixmaps.rst").read_text()
    block = text.split(f".. {marker}", 1)[1].split(".. code-block:: python", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def _run_docs_block(marker):
    namespace = {}
    exec(compile(_docs_block(marker), "docs/pixmaps.rst", "exec"), namespace)
    return namespace


def test_the_recipe_in_the_docs_runs():
    """The code block after ``.. outlier-recipe`` in docs/pixmaps.rst, executed as written."""
    blotted = _run_docs_block("outlier-recipe")["blotted"]
    assert len(blotted) == 3 and all(b.shape == (80, 100) for b in blotted)
    assert np.isfinite(blotted[0]).all()
    assert 0 < np.isnan(blotted[2]).sum() < blotted[2].size


def _stcal_gwcs_blot(median_data, median_wcs, blot_shape, blot_wcs, fillval):
    """stcal 1.19's ``gwcs_blot``, step by step, with drizzle (stcal is not a dependency)."""
    pixmap = calc_pixmap(copy.deepcopy(blot_wcs), copy.deepcopy(median_wcs), blot_shape)
    undefined = np.isnan(pixmap)
    pixmap[undefined] = -1
    out = np.full(blot_shape, fillval, dtype=np.float32)
    drizzle_blot_image(median_data, pixmap, out_img=out, fillval=fillval, iscale=1.0,
                       interp="linear")
    return out, undefined.any(axis=2)


def test_the_gwcs_recipe_in_the_docs_is_stcal_gwcs_blot(tmp_path, monkeypatch):
    """docs/pixmaps.rst's gwcs recipe, run as written: each store equals stcal's blot."""
    monkeypatch.chdir(tmp_path)
    ns = _run_docs_block("jwst-gwcs-recipe")
    median = np.asarray(ns["median_data"][...])
    assert len(ns["blotted"]) == 2
    for k, (blot_wcs, image) in enumerate(zip(ns["blot_wcss"], ns["blotted"], strict=True)):
        assert image.shape == (200, 240) and image.chunks == (128, 128)  # 2 x 2 tiles
        expected, outside_box = _stcal_gwcs_blot(median, ns["median_wcs"], (200, 240),
                                                 blot_wcs, ns["fillval"])
        assert outside_box[:, :4].all() and not outside_box[:, 4:].any()
        # drizzle's numbers to float32 rounding, and fillval exactly where stcal has it.
        np.testing.assert_allclose(image[...], expected, rtol=0, atol=tolerance(median))
        assert_same(image[...] == ns["fillval"], expected == ns["fillval"])
        reopened = zarr.open_group(tmp_path / f"blot_{k}.zarr", mode="r")["image"]
        assert_same(reopened[...], image[...])
    # The second exposure hangs off the mosaic: fillval there, data elsewhere.
    last = np.asarray(ns["blotted"][1][...])
    off = (last == ns["fillval"]).mean()
    assert 0.05 < off < 0.9
