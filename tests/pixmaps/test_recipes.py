"""docs/pixmaps.rst's outlier-detection recipes, run and checked against drizzle."""

from pathlib import Path

import numpy as np
from drizzle.utils import calc_pixmap

from tileblot import blot_image, pixmap_from_wcs

from ..oracle import assert_matches_drizzle
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


def test_the_recipe_in_the_docs_runs():
    """The code block after ``.. outlier-recipe`` in docs/pixmaps.rst, executed as written."""
    text = (Path(__file__).parents[2] / "docs" / "pixmaps.rst").read_text()
    block = text.split(".. outlier-recipe", 1)[1].split(".. code-block:: python", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    namespace = {}
    exec(compile("\n".join(lines), "docs/pixmaps.rst", "exec"), namespace)
    blotted = namespace["blotted"]
    assert len(blotted) == 3 and all(b.shape == (80, 100) for b in blotted)
    assert np.isfinite(blotted[0]).all()
    assert 0 < np.isnan(blotted[2]).sum() < blotted[2].size
