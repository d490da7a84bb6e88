"""Whether two WCSs of one image put it in the same place (``wcs_offset``, ``check_same_place``)."""

import numpy as np
import pytest

astropy_wcs = pytest.importorskip("astropy.wcs")

from tileblot._pixmaps._checks import (  # noqa: E402  (needs astropy: after the skip)
    SKY_TOLERANCE,
    check_same_place,
    wcs_offset,
)

from .skies import make_gwcs, make_wcs  # noqa: E402


def _wcs(ctype=("RA---TAN", "DEC--TAN"), crval=(150.0, 2.0), crpix=(50.0, 50.0),
         cdelt=(-1 / 36000, 1 / 36000), radesys=None):
    wcs = astropy_wcs.WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = ctype, crval, crpix, cdelt
    if radesys:
        wcs.wcs.radesys = radesys
    wcs.wcs.set()
    return wcs


@pytest.mark.parametrize(("first", "second", "expected"), [
    # CRPIX2 off 0.2 px where a pixel is far taller in degrees than it is wide on the sky
    # (CAR at dec 50-70): measured in y pixels, not in x pixels.
    (dict(ctype=("RA---CAR", "DEC--CAR"), crval=(150.0, 0.0), crpix=(1000.5, -4999.5),
          cdelt=(-0.01, 0.01)),
     dict(ctype=("RA---CAR", "DEC--CAR"), crval=(150.0, 0.0), crpix=(1000.5, -4999.3),
          cdelt=(-0.01, 0.01)), 0.2),
    # Rectangular pixels, ten times wider than tall: a 5-pixel shift in y is 5 pixels.
    (dict(cdelt=(-5e-4 / 3600, 5e-5 / 3600)),
     dict(cdelt=(-5e-4 / 3600, 5e-5 / 3600), crpix=(50.0, 55.0)), 5.0),
    (dict(), dict(crpix=(51.0, 50.0)), 1.0),  # CRPIX off by one
])
def test_offsets_are_in_pixels_of_the_first(first, second, expected):
    offset = wcs_offset(_wcs(**first), _wcs(**second), (100, 2000))
    assert offset == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("radesys", "equinox"), [("FK5", 2000.0), ("FK4", 1950.0)])
def test_the_same_numbers_in_other_frames_are_apart_by_the_frames_difference(radesys, equinox):
    """An FK4 B1950 label on ICRS numbers is 0.7 degrees off; an FK5 one ~25 mas."""
    from astropy.coordinates import SkyCoord

    labelled = _wcs(radesys=radesys)
    labelled.wcs.equinox = equinox
    labelled.wcs.set()
    equinox_name = {"FK5": "J2000", "FK4": "B1950"}[radesys]
    labelled_sky = SkyCoord(150.0, 2.0, unit="deg", frame=radesys.lower(), equinox=equinox_name)
    apart = labelled_sky.icrs.separation(SkyCoord(150.0, 2.0, unit="deg")).arcsec / 0.1
    assert wcs_offset(labelled, _wcs(radesys="ICRS"), (100, 100)) == pytest.approx(apart,
                                                                                   rel=1e-2)
    if apart > SKY_TOLERANCE:
        with pytest.raises(ValueError, match=rf"one is in {radesys}, the other in ICRS"):
            check_same_place(labelled, _wcs(radesys="ICRS"), (100, 100), "the two")


def test_a_pole_on_the_grid_is_measured():
    polar = dict(ctype=("RA---ZEA", "DEC--ZEA"), crval=(0.0, 90.0), crpix=(1000.5, 1000.5),
                 cdelt=(-0.01, 0.01))
    off = {**polar, "crpix": (1000.5, 1005.5)}
    assert wcs_offset(_wcs(**polar), _wcs(**off), (2000, 2000)) == pytest.approx(5.0, abs=1e-3)
    # A shift under the tolerance reads as itself beside the pole too.
    near = {**polar, "crpix": (1000.5, 1000.8)}
    assert wcs_offset(_wcs(**polar), _wcs(**near), (2000, 2000)) == pytest.approx(0.3, abs=1e-3)


def test_a_galactic_wcs_of_the_same_image_agrees_and_one_with_equatorial_numbers_does_not():
    from astropy.coordinates import SkyCoord

    equatorial = make_wcs((60, 80), scale=0.05, rotation=10.0)
    # The same image in galactic coordinates: a WCS fitted to the equatorial one's sky.
    y, x = np.mgrid[0:60:7j, 0:80:9j]
    sky = SkyCoord(*equatorial.pixel_to_world_values(x, y), unit="deg").galactic
    from astropy.wcs.utils import fit_wcs_from_points

    galactic = fit_wcs_from_points((x.ravel(), y.ravel()), sky.ravel(), projection="TAN")
    assert wcs_offset(galactic, equatorial, (60, 80)) < 1e-3
    check_same_place(galactic, equatorial, (60, 80), "the two")
    relabelled = equatorial.deepcopy()
    relabelled.wcs.ctype = ["GLON-TAN", "GLAT-TAN"]
    relabelled.wcs.set()
    with pytest.raises(ValueError, match=r"the two put the image [0-9.e+]+ pixels apart"):
        check_same_place(relabelled, equatorial, (60, 80), "the two")


@pytest.mark.parametrize("ctype", [("ELON-TAN", "ELAT-TAN"), ("SLON-TAN", "SLAT-TAN"),
                                   ("WAVE", "TIME")])
def test_world_axes_that_cannot_be_compared_are_refused(ctype):
    with pytest.raises(ValueError, match=r"have world axes .* frames tileblot cannot compare"):
        check_same_place(_wcs(ctype=ctype), _wcs(), (100, 100), "these")


def test_a_gwcs_is_compared_up_to_its_bounding_box_edge():
    pytest.importorskip("gwcs")
    shape = (48, 64)
    exact = make_gwcs(shape, distortion=False,
                      bounding_box=((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5)))
    shifted = make_gwcs(shape, distortion=False, crpix=((shape[1] - 1) / 2 + 0.3,
                                                        (shape[0] - 1) / 2))
    assert wcs_offset(exact, exact, shape) == pytest.approx(0.0, abs=1e-6)
    # Measured up to the box's edge (a step of a whole pixel from the last column leaves it).
    assert wcs_offset(exact, shifted, shape) == pytest.approx(0.3, abs=1e-6)
    assert SKY_TOLERANCE == 0.5


def test_a_gwcs_defined_on_a_narrow_strip_is_compared_there():
    pytest.importorskip("gwcs")
    shape = (64, 1032)
    strip = ((300.0, 380.0), (-0.5, shape[0] - 0.5))  # between the columns of a 9 x 9 grid
    narrow = make_gwcs(shape, distortion=False, bounding_box=strip)
    moved = make_gwcs(shape, distortion=False, crpix=((shape[1] - 1) / 2 + 10,
                                                      (shape[0] - 1) / 2))
    assert wcs_offset(narrow, moved, shape) == pytest.approx(10.0, abs=1e-6)
