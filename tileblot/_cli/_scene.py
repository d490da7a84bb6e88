"""A synthetic sky for the demo and the notebooks: a mosaic with a WCS and dithered exposures.

Nothing here is needed to blot; it only makes inputs that look like astronomy
(stars, galaxies, noise, tangent-plane WCSs with dithers and rotations) so
that ``tileblot demo`` and the notebooks have something to show. astropy is
needed for the WCSs; it is imported lazily. Public as ``tileblot.demo``.
"""

import importlib
import math
from dataclasses import dataclass, field

import numpy as np

from .._io._fits import wcs_cards
from .._pixmaps._checks import check_shape
from . import _scene_checks as checks

#: Where the synthetic field points (degrees): any patch of sky would do.
CENTER = (150.1, 2.2)
#: Mosaic pixel scale, arcsec per pixel (a drizzled HST/JWST-like product).
MOSAIC_SCALE = 0.04


def _require(module, extra):
    """Import ``module``, or raise ``ImportError`` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{module} is needed for this; install it with: pip install 'tileblot[{extra}]'"
        ) from None


@dataclass(frozen=True)
class Exposure:
    """One simulated exposure: its grid and WCS, and how it was pointed.

    Attributes
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the exposure's pixel grid.
    wcs : astropy.wcs.WCS
        Its WCS (``array_shape`` set to ``shape``).
    offset : (float, float)
        Pointing offset of its centre from the mosaic's, in mosaic pixels ``(x, y)``.
    rotation : float
        Rotation of its axes relative to the mosaic's, degrees.
    scale : float
        Its pixel scale over the mosaic's.
    """

    shape: tuple
    wcs: object = field(repr=False)
    offset: tuple
    rotation: float
    scale: float


@dataclass(frozen=True)
class Scene:
    """A mosaic, its WCS and the exposures it will be blotted onto.

    Attributes
    ----------
    mosaic : numpy.ndarray
        float32 ``(size, size)``, sky-subtracted; its background noise has
        standard deviation ``noise`` (the values have no physical unit).
    wcs : astropy.wcs.WCS
        The mosaic's TAN WCS, north up, ``MOSAIC_SCALE`` arcsec per pixel.
    exposures : tuple of Exposure
        The exposures, each dithered, rolled and with its own pixel scale.
    noise : float
        Standard deviation of the mosaic's background noise.
    """

    mosaic: np.ndarray = field(repr=False)
    wcs: object = field(repr=False)
    exposures: tuple
    noise: float


def tan_wcs(shape, scale_arcsec, *, center=CENTER, crpix=None, rotation=0.0):
    """A gnomonic (TAN) WCS of a ``shape`` grid, north up (rotated by ``rotation`` degrees).

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``; ``crpix`` defaults to the grid's centre.
    scale_arcsec : float
        Pixel scale, arcsec per pixel.
    center : (float, float), optional
        ``(ra, dec)`` of the reference pixel, degrees.
    crpix : (float, float), optional
        1-based FITS reference pixel ``(x, y)``.
    rotation : float, optional
        Position angle of the y axis, degrees east of north.

    Returns
    -------
    astropy.wcs.WCS
    """
    shape = check_shape(shape)
    scale_arcsec = checks.real("scale_arcsec", scale_arcsec, positive=True)
    rotation = checks.real("rotation", rotation)
    wcs_module = _require("astropy.wcs", "astropy")
    wcs = wcs_module.WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.crval = list(center)
    ny, nx = shape
    wcs.wcs.crpix = list(crpix) if crpix is not None else [(nx + 1) / 2.0, (ny + 1) / 2.0]
    step = scale_arcsec / 3600.0
    theta = math.radians(rotation)
    cos, sin = math.cos(theta), math.sin(theta)
    # RA increases to the east, i.e. to the left of the image: the minus sign in CD1_1.
    wcs.wcs.cd = [[-step * cos, step * sin], [step * sin, step * cos]]
    wcs.array_shape = (ny, nx)
    return wcs


def _add_stamp(image, x, y, stamp):
    """Add ``stamp`` centred near pixel ``(x, y)``, clipped to the image."""
    half_y, half_x = stamp.shape[0] // 2, stamp.shape[1] // 2
    y0, x0 = round(y) - half_y, round(x) - half_x
    ys0, xs0 = max(0, -y0), max(0, -x0)
    ys1 = min(stamp.shape[0], image.shape[0] - y0)
    xs1 = min(stamp.shape[1], image.shape[1] - x0)
    if ys1 > ys0 and xs1 > xs0:
        image[y0 + ys0 : y0 + ys1, x0 + xs0 : x0 + xs1] += stamp[ys0:ys1, xs0:xs1]


def _star(x, y, flux, sigma):
    """A Gaussian point source, sampled at pixel centres (sub-pixel position kept)."""
    half = math.ceil(4 * sigma)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    dx, dy = x - round(x), y - round(y)
    r2 = (xx - dx) ** 2 + (yy - dy) ** 2
    return flux / (2 * math.pi * sigma**2) * np.exp(-r2 / (2 * sigma**2))


def _galaxy(rng, x, y, flux, radius):
    """An exponential (Sersic n=1) disk with a random axis ratio and orientation."""
    half = math.ceil(6 * radius)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    xx -= x - round(x)
    yy -= y - round(y)
    q = rng.uniform(0.3, 1.0)
    angle = rng.uniform(0.0, math.pi)
    cos, sin = math.cos(angle), math.sin(angle)
    major = xx * cos + yy * sin
    minor = (-xx * sin + yy * cos) / q
    profile = np.exp(-np.hypot(major, minor) / radius)
    return flux * profile / profile.sum()


def synthetic_mosaic(shape, rng, *, n_stars=None, n_galaxies=None, noise=1.0, psf_sigma=1.6):
    """A sky-subtracted mosaic: Gaussian stars, exponential galaxies and Gaussian noise.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    rng : numpy.random.Generator
        Source of randomness (positions, fluxes, noise).
    n_stars, n_galaxies : int, optional
        Default: one star per 4000 pixels and one galaxy per 100 000 (at least 3).
    noise : float, optional
        Standard deviation of the background noise.
    psf_sigma : float, optional
        Gaussian PSF width, pixels.

    Returns
    -------
    numpy.ndarray
        float32, ``shape``.
    """
    ny, nx = shape = check_shape(shape)
    checks.generator(rng)
    noise = checks.real("noise", noise, low=0.0)
    psf_sigma = checks.real("psf_sigma", psf_sigma, positive=True)
    n_stars = (max(3, ny * nx // 4000) if n_stars is None
               else checks.count("n_stars", n_stars))
    n_galaxies = (max(3, ny * nx // 100_000) if n_galaxies is None
                  else checks.count("n_galaxies", n_galaxies))
    image = rng.standard_normal(shape, dtype=np.float32)
    image *= np.float32(noise)
    # A steep power law: many faint stars, a few bright ones, as in a real field.
    fluxes = noise * 30.0 * (1.0 + rng.pareto(1.5, n_stars))
    for x, y, flux in zip(rng.uniform(0, nx, n_stars), rng.uniform(0, ny, n_stars), fluxes,
                          strict=True):
        _add_stamp(image, x, y, _star(x, y, flux, psf_sigma))
    for _ in range(n_galaxies):
        x, y = rng.uniform(0, nx), rng.uniform(0, ny)
        radius = rng.uniform(3.0, 12.0)
        flux = noise * rng.uniform(2e3, 2e4)
        _add_stamp(image, x, y, _galaxy(rng, x, y, flux, radius))
    return image


def make_scene(size=4096, n_exposures=3, *, rng=None, exposure_fraction=0.5):
    """A square mosaic with a TAN WCS and ``n_exposures`` dithered, rotated exposures.

    Each exposure is offset from the mosaic's centre by up to a tenth of its
    side, rolled by 8 to 30 degrees (alternating in sign) and given pixels
    0.97 to 1.05 times the mosaic's; its side is ``exposure_fraction`` of the
    mosaic's (and an eighth wider than tall).

    Parameters
    ----------
    size : int, optional
        Side of the mosaic, pixels (1 to 32768).
    n_exposures : int, optional
        How many exposures (0 to 1000).
    rng : numpy.random.Generator, optional
        Default: ``np.random.default_rng(2024)`` (the demo is reproducible).
    exposure_fraction : float, optional
        Side of an exposure as a fraction of the mosaic's (above 0; above 1, the
        exposures run off the mosaic; at most 32768 pixels).

    Returns
    -------
    Scene
    """
    size = checks.count("size", size, minimum=1, maximum=checks.MAX_SIZE)
    n_exposures = checks.count("n_exposures", n_exposures, maximum=1000)
    exposure_fraction = checks.real("exposure_fraction", exposure_fraction, positive=True,
                                    high=checks.MAX_SIZE / size)
    rng = np.random.default_rng(2024) if rng is None else checks.generator(rng)
    shape = (size, size)
    mosaic_wcs = tan_wcs(shape, MOSAIC_SCALE)
    mosaic = synthetic_mosaic(shape, rng)
    exposures = []
    side = max(8, int(size * exposure_fraction))
    for k in range(n_exposures):
        # A dither pattern: small offsets (a tenth of the mosaic), every exposure rolled by
        # 8 to 30 degrees (alternating sign), pixels a few per cent coarser or finer.
        offset = tuple(float(v) for v in rng.uniform(-0.1, 0.1, 2) * size)
        rotation = float((-1) ** k * rng.uniform(8.0, 30.0))
        scale = float(rng.uniform(0.97, 1.05))
        exp_shape = (side, side + side // 8)
        center = mosaic_wcs.pixel_to_world_values(
            (size - 1) / 2.0 + offset[0], (size - 1) / 2.0 + offset[1]
        )
        wcs = tan_wcs(exp_shape, MOSAIC_SCALE * scale, center=tuple(map(float, center)),
                      rotation=rotation)
        exposures.append(Exposure(exp_shape, wcs, offset, rotation, scale))
    return Scene(mosaic, mosaic_wcs, tuple(exposures), noise=1.0)


def simulate_exposure(blotted, rng, *, noise=1.0, n_cosmic_rays=30):
    """An "observed" exposure: the blotted mosaic plus fresh noise and cosmic rays.

    Parameters
    ----------
    blotted : numpy.ndarray
        The mosaic blotted onto the exposure's grid.
    rng : numpy.random.Generator
    noise : float, optional
        Standard deviation of the added noise.
    n_cosmic_rays : int, optional
        Number of cosmic-ray tracks (short bright streaks).

    Returns
    -------
    exposure : numpy.ndarray
        float32, ``blotted.shape``.
    hits : numpy.ndarray
        bool mask of the pixels a cosmic ray hit.
    """
    exposure = checks.image("blotted", blotted).astype(np.float32)  # a copy
    checks.generator(rng)
    noise = checks.real("noise", noise, low=0.0)
    n_cosmic_rays = checks.count("n_cosmic_rays", n_cosmic_rays)
    exposure += rng.standard_normal(exposure.shape, dtype=np.float32) * np.float32(noise)
    hits = np.zeros(exposure.shape, dtype=bool)
    ny, nx = exposure.shape
    for _ in range(n_cosmic_rays):
        length = rng.integers(2, 20)
        angle = rng.uniform(0, 2 * math.pi)
        t = np.linspace(0.0, 1.0, 2 * length)
        x = (rng.uniform(0, nx) + length * math.cos(angle) * t).astype(int)
        y = (rng.uniform(0, ny) + length * math.sin(angle) * t).astype(int)
        keep = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
        hits[y[keep], x[keep]] = True
        exposure[y[keep], x[keep]] += np.float32(noise * rng.uniform(50, 500))
    return exposure, hits


def footprint(exposure, mosaic_wcs):
    """Corners of an exposure's grid in mosaic pixels, ``(4, 2)`` of ``(x, y)``."""
    checks.has("exposure", exposure, "shape", "wcs")
    checks.has("mosaic_wcs", mosaic_wcs, "world_to_pixel_values")
    ny, nx = exposure.shape
    x = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
    y = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    world = exposure.wcs.pixel_to_world_values(x, y)
    return np.column_stack(mosaic_wcs.world_to_pixel_values(*world))


def wcs_to_attrs(wcs):
    """A WCS as a JSON-ready dict of FITS header cards (the mosaic's ``wcs`` attribute).

    Parameters
    ----------
    wcs : astropy.wcs.WCS

    Returns
    -------
    dict
        ``{keyword: value}``, readable back with ``WCS(astropy.io.fits.Header(attrs))``;
        numbers keep 17 significant digits.
    """
    return wcs_cards(wcs)
