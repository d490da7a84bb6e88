"""WCSs for the pixmap tests: astropy TAN(-SIP) builders and a duck-typed sky plane."""

import copy
import functools
import math
from typing import ClassVar

import numpy as np
from astropy.wcs import WCS, Sip

RA, DEC = 150.1, 2.2

def _sip_coefficients():
    """SIP A/B polynomials of ACS/WFC-like size (about 35 px at the corners of 2k x 2k)."""
    a = np.zeros((5, 5))
    b = np.zeros((5, 5))
    a[2, 0], a[1, 1], a[0, 2] = 8.6e-6, -5.2e-6, 2.2e-6
    a[3, 0], a[1, 2], a[2, 2] = -4e-11, 3e-11, 1e-15
    b[2, 0], b[1, 1], b[0, 2] = -3.1e-6, 7.6e-6, -1.5e-6
    b[0, 3], b[2, 1], b[4, 0] = 5e-11, -2e-11, 2e-15
    return a, b


def make_wcs(shape, *, scale=0.05, rotation=0.0, crval=(RA, DEC), crpix=None, sip=False):
    """A TAN (optionally TAN-SIP) astropy WCS built without FITS headers (so no warnings).

    ``scale`` in arcsec per pixel, ``rotation`` in degrees, ``crpix`` 1-based (x, y).
    """
    ny, nx = shape
    wcs = WCS(naxis=2)
    suffix = "-SIP" if sip else ""
    wcs.wcs.ctype = [f"RA---TAN{suffix}", f"DEC--TAN{suffix}"]
    wcs.wcs.crval = crval
    wcs.wcs.crpix = crpix if crpix is not None else [(nx + 1) / 2, (ny + 1) / 2]
    theta = math.radians(rotation)
    cd = np.array([[-math.cos(theta), math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    wcs.wcs.cd = cd * scale / 3600.0
    if sip:
        a, b = _sip_coefficients()
        wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    wcs.pixel_shape = (nx, ny)
    wcs.wcs.set()
    return wcs


def exposure_and_mosaic(shape=(96, 128)):
    """A distorted, rotated exposure inside an undistorted mosaic (finer pixels)."""
    exposure = make_wcs(shape, rotation=25.0, sip=True, crpix=[40.0, 30.0])
    mosaic = make_wcs((400, 400), scale=0.03, rotation=0.0)
    return exposure, mosaic


class SkyPlane:
    """Duck-typed WCS (the shared Python API only): an affine map pixel <-> world.

    With ``bounding_box = ((x0, x1), (y0, y1))`` set, pixel_to_world_values is NaN
    outside it and world_to_pixel_values NaN for results outside it, as in gwcs.
    ``undefined`` (world x above it) makes world_to_pixel_values raise ValueError.
    """

    calls: ClassVar[list] = []  # shared, not copied, so a test can count calls made on copies

    def __init__(self, matrix, offset, array_shape=None, bounding_box=None, undefined=None):
        self.matrix = np.asarray(matrix, dtype=float)
        self.offset = np.asarray(offset, dtype=float)
        self.array_shape = array_shape
        self.bounding_box = bounding_box
        self.undefined = undefined
        self.pixel_n_dim = self.world_n_dim = 2

    def _outside(self, x, y):
        if self.bounding_box is None:
            return np.zeros(np.shape(x), dtype=bool)
        (x0, x1), (y0, y1) = self.bounding_box
        return (x < x0) | (x > x1) | (y < y0) | (y > y1)

    def pixel_to_world_values(self, x, y):
        SkyPlane.calls.append("pixel_to_world_values")
        (a, b), (c, d) = self.matrix
        u = a * np.asarray(x) + b * np.asarray(y) + self.offset[0]
        v = c * np.asarray(x) + d * np.asarray(y) + self.offset[1]
        outside = self._outside(x, y)
        return np.where(outside, np.nan, u), np.where(outside, np.nan, v)

    def world_to_pixel_values(self, u, v):
        SkyPlane.calls.append("world_to_pixel_values")
        u, v = np.asarray(u), np.asarray(v)
        if self.undefined is not None and np.any(u > self.undefined):
            raise ValueError("no pixel there")
        inverse = np.linalg.inv(self.matrix)
        x = inverse[0, 0] * (u - self.offset[0]) + inverse[0, 1] * (v - self.offset[1])
        y = inverse[1, 0] * (u - self.offset[0]) + inverse[1, 1] * (v - self.offset[1])
        outside = self._outside(x, y)
        return np.where(outside, np.nan, x), np.where(outside, np.nan, y)


def sky_planes(**exposure_kwargs):
    exposure = SkyPlane([[0.9, -0.3], [0.3, 0.9]], [5.0, -3.0], **exposure_kwargs)
    mosaic = SkyPlane([[0.5, 0.0], [0.0, 0.5]], [0.0, 0.0], bounding_box=((0, 40), (0, 40)))
    return exposure, mosaic


def assert_same(actual, expected):
    """Bit-for-bit equal, NaN where expected has NaN."""
    np.testing.assert_array_equal(np.asarray(actual), expected, strict=True)


def assert_like_calc_pixmap(actual, expected, output_wcs, chunks):
    """Bit for bit, unless astropy inverts SIP iteratively on tiles smaller than the grid.

    ``all_world2pix`` iterates until the worst point of its batch converges, so its values
    depend on the batch, within its tolerance (1e-4 px; about 1e-7 px here).
    """
    if getattr(output_wcs, "sip", None) is None or chunks is None:
        assert_same(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- gwcs


@functools.cache
def _distortion(half=1024.0):
    """A cubic polynomial distortion of JWST-imager-like size, with a fitted inverse.

    Written on coordinates normalised by ``half`` px from the reference pixel (so the fit
    stays well conditioned): about 35-40 px at the corners of a 2k x 2k detector. A smaller
    exposure is a cut-out of the same distortion (same curvature, so the same ``stepsize``
    error). The inverse is a least-squares polynomial, as distortion reference files ship
    one; it undoes the forward map to about 2e-3 px at the corners of 2k x 2k. Built once
    (the fit takes seconds) and shared: the WCSs only evaluate it.
    """
    from astropy.modeling import fitting, models

    fx = models.Polynomial2D(3, c1_0=1.0, c2_0=0.02, c1_1=-0.012, c0_2=0.006, c3_0=-0.004,
                             c1_2=0.003)
    fy = models.Polynomial2D(3, c0_1=1.0, c2_0=-0.007, c1_1=0.015, c0_2=-0.011, c0_3=0.005,
                             c2_1=-0.002)
    forward = models.Mapping((0, 1, 0, 1)) | (fx & fy)
    v, u = np.mgrid[-1.1:1.1:41j, -1.1:1.1:41j]
    du, dv = forward(u, v)
    fit = fitting.LinearLSQFitter()
    inverse = models.Mapping((0, 1, 0, 1)) | (
        fit(models.Polynomial2D(5), du, dv, u) & fit(models.Polynomial2D(5), du, dv, v)
    )
    forward.inverse = inverse
    scale, unscale = (models.Scale(1 / half) & models.Scale(1 / half),
                      models.Scale(half) & models.Scale(half))
    return scale | forward | unscale


def make_gwcs(shape, *, scale=0.031, rotation=0.0, crval=(RA, DEC), crpix=None,
              distortion=True, bounding_box=None):
    """An imaging gwcs as JWST's pipelines build one: detector -> (distortion) -> TAN -> sky.

    ``crpix`` is 0-based ``(x, y)`` (default the centre); ``scale`` in arcsec per pixel,
    ``rotation`` in degrees; ``bounding_box`` ``((x0, x1), (y0, y1))``. ``array_shape`` is
    left unset, as on a datamodel's WCS.
    """
    from astropy import coordinates
    from astropy import units as u
    from astropy.modeling import models
    from gwcs import WCS as GWCS
    from gwcs import coordinate_frames as cf

    ny, nx = shape
    cx, cy = crpix if crpix is not None else ((nx - 1) / 2, (ny - 1) / 2)
    transform = models.Shift(-cx) & models.Shift(-cy)
    if distortion:
        transform = transform | _distortion()
    theta = math.radians(rotation)
    cd = np.array([[-math.cos(theta), math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    transform = (
        transform
        | models.AffineTransformation2D(matrix=cd * scale / 3600.0)
        | models.Pix2Sky_TAN()
        | models.RotateNative2Celestial(*crval, 180.0)
    )
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    sky = cf.CelestialFrame(reference_frame=coordinates.ICRS(), name="world",
                            unit=(u.deg, u.deg))
    wcs = GWCS(forward_transform=transform, input_frame=detector, output_frame=sky)
    if bounding_box is not None:
        wcs.bounding_box = bounding_box
    return wcs


def gwcs_pixmap(wcs_from, wcs_to, shape, *, to_bounding_box=False):
    """The reference: gwcs evaluated directly on the whole grid, both coordinates NaN together.

    The mosaic's bounding box is ignored unless ``to_bounding_box`` (calc_pixmap's default).
    """
    wcs_to = copy.deepcopy(wcs_to)
    if not to_bounding_box:
        wcs_to.bounding_box = None
    y, x = np.indices(shape, dtype=np.float64)
    px, py = wcs_to.world_to_pixel_values(*wcs_from.pixel_to_world_values(x, y))
    bad = np.isnan(px) | np.isnan(py)
    px[bad] = py[bad] = np.nan
    return np.dstack([px, py])
