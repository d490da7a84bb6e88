"""A synthetic sky for the demo and the notebooks: a mosaic with a WCS and dithered exposures.

Nothing here is needed to blot; it only makes inputs that look like astronomy
(stars, galaxies, noise, tangent-plane WCSs with dithers and rotations) so
that ``tileblot demo`` and the notebooks have something to show. astropy is
needed for the WCSs and matplotlib for :func:`quicklook`; both are imported
lazily.
"""

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Where the synthetic field points (degrees): any patch of sky would do.
CENTER = (150.1, 2.2)
#: Mosaic pixel scale, arcsec per pixel (a drizzled HST/JWST-like product).
MOSAIC_SCALE = 0.04


def _require(module, extra):
    """Import ``module``, or raise ``ImportError`` naming the extra that provides it."""
    import importlib

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
    """A mosaic, its WCS and the exposures it will be blotted onto."""

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
    ny, nx = shape
    n_stars = max(3, ny * nx // 4000) if n_stars is None else n_stars
    n_galaxies = max(3, ny * nx // 100_000) if n_galaxies is None else n_galaxies
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

    Parameters
    ----------
    size : int, optional
        Side of the mosaic, pixels.
    n_exposures : int, optional
        How many exposures.
    rng : numpy.random.Generator, optional
        Default: ``np.random.default_rng(2024)`` (the demo is reproducible).
    exposure_fraction : float, optional
        Side of an exposure as a fraction of the mosaic's.

    Returns
    -------
    Scene
    """
    rng = np.random.default_rng(2024) if rng is None else rng
    shape = (size, size)
    mosaic_wcs = tan_wcs(shape, MOSAIC_SCALE)
    mosaic = synthetic_mosaic(shape, rng)
    exposures = []
    side = max(8, int(size * exposure_fraction))
    for k in range(n_exposures):
        # A dither pattern: small offsets (a tenth of the mosaic), a few tens of degrees of
        # roll, pixels a few per cent coarser or finer than the mosaic's.
        offset = tuple(float(v) for v in rng.uniform(-0.1, 0.1, 2) * size)
        rotation = float((-1) ** k * rng.uniform(8.0, 30.0)) if k else 0.0
        scale = float(rng.uniform(0.97, 1.05)) if k else 1.0
        exp_shape = (side, side + side // 8)
        center = mosaic_wcs.pixel_to_world_values(
            (size - 1) / 2.0 + offset[0], (size - 1) / 2.0 + offset[1]
        )
        wcs = tan_wcs(exp_shape, MOSAIC_SCALE * scale, center=tuple(map(float, center)),
                      rotation=rotation)
        exposures.append(Exposure(exp_shape, wcs, offset, rotation, scale))
    return Scene(mosaic, mosaic_wcs, tuple(exposures), noise=1.0)


def wcs_to_attrs(wcs):
    """A WCS as a JSON-ready dict of FITS header cards (the mosaic's ``wcs`` attribute).

    Parameters
    ----------
    wcs : astropy.wcs.WCS

    Returns
    -------
    dict
        ``{keyword: value}``, readable back with ``WCS(astropy.io.fits.Header(attrs))``.
    """
    header = wcs.to_header()
    return {key: header[key] for key in header if key not in ("", "COMMENT", "HISTORY")}


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
    exposure = np.asarray(blotted, dtype=np.float32).copy()
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
    ny, nx = exposure.shape
    x = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
    y = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    world = exposure.wcs.pixel_to_world_values(x, y)
    return np.column_stack(mosaic_wcs.world_to_pixel_values(*world))


def _binned(image, max_side):
    """Block-average ``image`` so its longer side is at most about ``max_side`` (NaN-aware)."""
    image = np.asarray(image, dtype=np.float32)
    factor = max(1, -(-max(image.shape) // max_side))
    ny, nx = (n // factor * factor for n in image.shape)
    blocks = image[:ny, :nx].reshape(ny // factor, factor, nx // factor, factor)
    with np.errstate(invalid="ignore"):
        # All-NaN blocks (off the mosaic) stay NaN without numpy's "mean of empty slice".
        counts = np.isfinite(blocks).sum(axis=(1, 3))
        sums = np.nansum(blocks, axis=(1, 3))
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), factor


def _stretch(image, noise):
    """An asinh stretch: noise near black, faint galaxies visible, stars not saturated."""
    return np.arcsinh(image / (3.0 * noise))


def show(ax, image, *, noise=1.0, title=None, max_side=1024):
    """Draw ``image`` on ``ax`` (binned, asinh-stretched, origin lower left); returns the bin."""
    binned, factor = _binned(image, max_side)
    extent = (-0.5, binned.shape[1] * factor - 0.5, -0.5, binned.shape[0] * factor - 0.5)
    ax.imshow(_stretch(binned, noise / factor), origin="lower", cmap="gray", extent=extent,
              vmin=-1.0, vmax=6.0, interpolation="nearest")
    if title:
        ax.set_title(title)
    return factor


def quicklook(path, scene, blotted, *, index=0):
    """Write a PNG: the mosaic with the exposures' footprints, and one blotted exposure.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write the PNG.
    scene : Scene
    blotted : array-like
        The mosaic blotted onto exposure ``index`` (zarr arrays are read whole).
    index : int, optional
        Which exposure ``blotted`` belongs to.
    """
    matplotlib = _require("matplotlib", "plot")
    # Agg: the demo may run on a server with no display; never touch the user's backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    del matplotlib
    fig = Figure(figsize=(12, 6), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    show(left, scene.mosaic, noise=scene.noise, title="mosaic and exposure footprints")
    for k, exposure in enumerate(scene.exposures):
        corners = footprint(exposure, scene.wcs)
        closed = np.vstack([corners, corners[:1]])
        left.plot(closed[:, 0], closed[:, 1], color=f"C{k + 1}", lw=1.5,
                  label=f"exposure {k + 1}")
    left.legend(loc="upper right", fontsize="small")
    show(right, np.asarray(blotted), noise=scene.noise,
         title=f"exposure {index + 1}: mosaic blotted onto its pixel grid")
    fig.savefig(path, dpi=100)


# --------------------------------------------------------------------------- the demo job

#: Marks a zarr array as the demo's own mosaic, so a re-run may overwrite it (and nothing else).
DEMO_ATTR = "tileblot_demo"


def _peak_rss_bytes():
    """Peak resident memory of this process, bytes (run on each worker by ``client.run``)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)


def write_mosaic(path, scene, *, chunks=512):
    """Write the mosaic as a zarr array, its WCS in ``attrs["wcs"]``; returns the array."""
    import zarr

    path = Path(path)
    if path.exists() and not _is_demo_mosaic(path):
        raise ValueError(f"{str(path)!r} exists and is not a tileblot demo mosaic; "
                         "refusing to overwrite it")
    array = zarr.create_array(
        store=str(path), shape=scene.mosaic.shape, chunks=(chunks, chunks), dtype=np.float32,
        overwrite=True,
        attributes={"wcs": wcs_to_attrs(scene.wcs), DEMO_ATTR: {"noise": scene.noise}},
    )
    array[...] = scene.mosaic
    return array


def _is_demo_mosaic(path):
    import zarr

    try:
        return DEMO_ATTR in zarr.open_array(str(path), mode="r").attrs
    except Exception:  # zarr raises several types for "not an array here"
        return False


#: The demo's WCS pixmaps are evaluated on a grid this sparse and interpolated in between, as
#: the JWST pipeline does: exact to far below a pixel for these smooth WCSs, and several times
#: faster than evaluating the WCSs at every pixel, which would dominate the demo's time.
STEPSIZE = 8


def run_demo(directory, client, *, size=4096, n_exposures=3, chunks=512, progress=True,
             echo=print):
    """The ``tileblot demo`` job: make a scene, blot it onto every exposure, draw a quicklook.

    Parameters
    ----------
    directory : str or os.PathLike
        Where to write (created if needed); the demo's own earlier outputs there are replaced.
    client : distributed.Client
        The cluster to blot on.
    size : int, optional
        Side of the mosaic, pixels.
    n_exposures : int, optional
        Number of exposures.
    chunks : int, optional
        Tile side of the mosaic's zarr chunks and of the outputs.
    progress : bool, optional
        Show distributed's progress bar.
    echo : callable, optional
        Receives one line of narration at a time.

    Returns
    -------
    dict
        What was done: ``tiles``, ``mpix``, ``seconds``, ``worker_peak``,
        ``local_peak`` (bytes), ``mosaic``, ``outputs``, ``quicklook`` (paths)
        and ``rerun`` (whether earlier outputs were replaced).
    """
    from .._api._blot_to_zarr import blot_to_zarr
    from .._pixmaps._wcs import pixmap_from_wcs

    directory = Path(directory)
    mosaic_path = directory / "mosaic.zarr"
    rerun = mosaic_path.exists()
    directory.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    scene = make_scene(size, n_exposures)
    write_mosaic(mosaic_path, scene, chunks=chunks)
    echo(f"mosaic: {size} x {size} pixels, TAN WCS at {MOSAIC_SCALE}\"/pixel: stars, galaxies "
         f"and noise -> {mosaic_path} ({time.perf_counter() - start:.1f} s)")

    pixmaps = [pixmap_from_wcs(e.wcs, scene.wcs, e.shape, chunks=chunks, stepsize=STEPSIZE)
               for e in scene.exposures]
    outputs = [directory / f"exposure_{k + 1}.zarr" for k in range(n_exposures)]
    tiles = sum(math.prod(len(c) for c in p.chunks[:2]) for p in pixmaps)
    pixels = sum(math.prod(e.shape) for e in scene.exposures)
    echo(f"blotting onto {n_exposures} exposures ({tiles} tiles of {chunks} x {chunks}, "
         f"poly5, pixmaps from the WCSs with stepsize={STEPSIZE}) ...")
    start = time.perf_counter()
    # One job for all exposures: the scheduler interleaves their tiles across workers.
    images = blot_to_zarr(str(mosaic_path), pixmaps, [str(p) for p in outputs], interp="poly5",
                          fillval=np.nan, chunks=chunks, overwrite=True, progress=progress,
                          client=client)
    seconds = time.perf_counter() - start
    worker_peak = client.run(_peak_rss_bytes)

    quicklook_path = directory / "quicklook.png"
    quicklook(quicklook_path, scene, images[0][...])
    return {
        "tiles": tiles,
        "mpix": pixels / 1e6,
        "seconds": seconds,
        "worker_peak": max(worker_peak.values()),
        "workers": len(worker_peak),
        "local_peak": _peak_rss_bytes(),
        "mosaic": mosaic_path,
        "outputs": outputs,
        "quicklook": quicklook_path,
        "rerun": rerun,
    }
