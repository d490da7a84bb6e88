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
    # The same numbers labelled FK5 and ICRS: compared as numbers, as a pixmap passes them.
    (dict(radesys="FK5"), dict(radesys="ICRS"), 0.0),
])
def test_offsets_are_in_pixels_of_the_first(first, second, expected):
    offset = wcs_offset(_wcs(**first), _wcs(**second), (100, 2000))
    assert offset == pytest.approx(expected, abs=1e-6)


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
