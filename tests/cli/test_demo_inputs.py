"""``tileblot.demo``'s functions refuse bad input with a ``TypeError`` or ``ValueError`` naming
it: numpy's, astropy's and matplotlib's errors came from deep inside them (an
``AttributeError`` for ``rng=5``, a ``ZeroDivisionError`` for ``max_side=0``), a count of
10^9 ran for good, and ``make_scene(0)`` returned an empty mosaic."""

import numpy as np
import pytest

pytest.importorskip("astropy")

from tileblot import demo

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def scene():
    return demo.make_scene(64, 2)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: demo.make_scene(0, 1), ValueError, "size must be from 1 to 32768, got 0"),
    (lambda: demo.make_scene(10**9), ValueError, "size must be from 1"),
    (lambda: demo.make_scene(64, 10**9), ValueError, "n_exposures must be from 0 to 1000"),
    (lambda: demo.make_scene(64, -1), ValueError, "n_exposures must be from 0"),
    (lambda: demo.make_scene(64, 1, exposure_fraction=1000.0), ValueError,
     "exposure_fraction must be at most 512.0, got 1000.0"),
    (lambda: demo.make_scene(64.0), TypeError, "size must be an integer"),
    (lambda: demo.make_scene(64, 1, rng=5), TypeError, "rng must be a numpy.random.Generator"),
    (lambda: demo.make_scene(64, 1, exposure_fraction=np.inf), ValueError, "must be finite"),
    (lambda: demo.make_scene(64, 1, exposure_fraction=-0.5), ValueError, "must be positive"),
    (lambda: demo.synthetic_mosaic((8, 8), None), TypeError, "rng must be"),
    (lambda: demo.synthetic_mosaic((8, 8), RNG, n_galaxies=10**12), ValueError,
     "n_galaxies must be from 0 to 1000000"),
    (lambda: demo.synthetic_mosaic((8, 8), RNG, psf_sigma=0), ValueError,
     "psf_sigma must be positive"),
    (lambda: demo.synthetic_mosaic((8, 8), RNG, psf_sigma=np.inf), ValueError, "finite"),
    (lambda: demo.synthetic_mosaic((0, 8), RNG), ValueError, "shape must be positive"),
    (lambda: demo.simulate_exposure(np.zeros((4, 4)), None), TypeError, "rng must be"),
    (lambda: demo.simulate_exposure(np.zeros(4), RNG), ValueError,
     "blotted must be a non-empty 2-D array"),
    (lambda: demo.simulate_exposure(np.zeros((4, 4)), RNG, n_cosmic_rays=10**12), ValueError,
     "n_cosmic_rays must be from 0"),
    (lambda: demo.tan_wcs((8, 8), 0), ValueError, "scale_arcsec must be positive"),
    (lambda: demo.tan_wcs((8, 8), np.nan), ValueError, "scale_arcsec must be finite"),
    (lambda: demo.footprint(None, None), TypeError, "exposure must have shape, wcs"),
])
def test_a_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_what_worked_before_the_checks_still_works():
    # Scenes smaller than their exposures, exposures wider than the mosaic, none at all,
    # and numbers given as 0-d arrays.
    assert demo.make_scene(8, 1).mosaic.shape == (8, 8)
    wide = demo.make_scene(np.array(64), 2, exposure_fraction=np.array(1.2))
    assert [e.shape for e in wide.exposures] == [(76, 85), (76, 85)]
    assert demo.make_scene(64, 0).exposures == ()


def test_pictures_and_mosaic_refuse_bad_input(scene, tmp_path):
    pytest.importorskip("matplotlib")
    blots = [np.zeros(e.shape, np.float32) for e in scene.exposures]
    with pytest.raises(ValueError, match="max_side must be from 1"):
        demo.quicklook_figure(scene, blots, max_side=0)
    with pytest.raises(TypeError, match="scene must have mosaic"):
        demo.quicklook_figure(None, blots)
    with pytest.raises(ValueError, match=r"blotted image 2 has shape \(3, 3\), its exposure"):
        demo.quicklook_figure(scene, [blots[0], np.zeros((3, 3))])
    with pytest.raises(ValueError, match="chunks must be from 1"):
        demo.write_mosaic(tmp_path / "m.zarr", scene, chunks=0)
    with pytest.raises(TypeError, match="scene must have mosaic"):
        demo.write_mosaic(tmp_path / "m.zarr", None)
    assert not (tmp_path / "m.zarr").exists()
    figure = demo.quicklook_figure(scene, blots, max_side=16)  # and good input still draws
    assert len(figure.axes) >= 3
