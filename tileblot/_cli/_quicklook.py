"""The demo's pictures: the mosaic with its exposures' footprints, and every blot, on the sky.

Every panel is drawn on astropy's WCSAxes, so its axes are right ascension
and declination (the exposures' grids are rolled against the mosaic's, and
their sky axes show it). All panels share one display, so one colour bar
serves them all: an asinh stretch (named on the bar, whose ticks are pixel
values), the same for every image. Images are block-averaged to about a
thousand pixels a side for display only (which also averages their noise
down).
Public as ``tileblot.demo``.
"""

from pathlib import Path

import numpy as np

from . import _scene_checks as checks
from ._scene import _require, footprint

#: The stretch: linear within ``SOFTENING`` noise sigmas of zero, logarithmic beyond.
SOFTENING = 3.0
#: Display range, in units of the noise.
VMIN, VMAX = -3.0, 600.0
#: Colour of pixels that see no mosaic (NaN), distinct from any grey of the stretch.
OFF_MOSAIC = "#5b7fa6"


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


def stretch_label(noise=1.0):
    """How the images are stretched, in words, for colour bars and captions."""
    return (f"pixel value (noise σ = {noise:g}), asinh stretch: linear within "  # noqa: RUF001
            f"±{SOFTENING * noise:g}, logarithmic beyond")


def _norm(noise):
    from matplotlib.colors import AsinhNorm

    return AsinhNorm(linear_width=SOFTENING * noise, vmin=VMIN * noise, vmax=VMAX * noise)


def show(ax, image, *, noise=1.0, title=None, max_side=1024):
    """Draw ``image`` on ``ax``: binned for display, asinh-stretched, origin lower left.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Plain axes, or WCSAxes (``projection=wcs``) for sky coordinates:
        pixel coordinates are kept, so the axes' WCS applies.
    image : array-like
        2-D; zarr arrays are read whole.
    noise : float, optional
        The images' noise sigma: the stretch is linear within 3 sigma.
    title : str, optional
    max_side : int, optional
        Block-average to about this many pixels a side (display only).

    Returns
    -------
    matplotlib.image.AxesImage
        For a colour bar (``figure.colorbar(returned)``).
    """
    image = checks.image("image", image)
    max_side = checks.count("max_side", max_side, minimum=1, maximum=checks.MAX_SIZE)
    noise = checks.real("noise", noise, positive=True)
    binned, factor = _binned(image, max_side)
    extent = (-0.5, binned.shape[1] * factor - 0.5, -0.5, binned.shape[0] * factor - 0.5)
    cmap = _require("matplotlib", "plot").colormaps["gray"].with_extremes(bad=OFF_MOSAIC)
    # One stretch for every image, binned or not, so that one colour bar reads them all.
    shown = ax.imshow(binned, origin="lower", cmap=cmap, norm=_norm(noise), extent=extent,
                      interpolation="nearest")
    if title:
        ax.set_title(title, fontsize="medium")
    _sky_axes(ax)
    return shown


def _sky_axes(ax):
    coords = getattr(ax, "coords", None)
    if coords is None:  # plain axes: pixel coordinates
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        return
    ra, dec = coords[0], coords[1]
    ra.set_axislabel("right ascension (ICRS)")
    dec.set_axislabel("declination (ICRS)")
    ra.set_major_formatter("hh:mm:ss.s")
    dec.set_major_formatter("dd:mm:ss")
    ra.set_ticks(number=4)
    dec.set_ticks(number=4)
    ax.coords.grid(color="white", alpha=0.25, linestyle="solid", linewidth=0.6)


def _grid(count):
    columns = 1 if count == 1 else 2 if count <= 4 else 3
    return -(-count // columns), columns


def quicklook_figure(scene, blotted, *, max_side=1024):
    """A figure: the mosaic with every exposure's footprint, then each blot on its own grid.

    Parameters
    ----------
    scene : Scene
        From :func:`make_scene`.
    blotted : sequence of array-like
        The mosaic blotted onto each exposure, in ``scene.exposures``' order
        (zarr arrays are read one at a time).
    max_side : int, optional
        Display resolution of each panel (see :func:`show`).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (safe on servers and inside other programs).
    """
    _require("matplotlib", "plot")
    _require("astropy.visualization.wcsaxes", "astropy")
    from matplotlib.figure import Figure

    checks.has("scene", scene, "mosaic", "wcs", "exposures", "noise")
    blotted = list(blotted)
    if len(blotted) != len(scene.exposures):
        raise ValueError(f"blotted has {len(blotted)} images for {len(scene.exposures)} "
                         "exposures")
    for k, (image, exposure) in enumerate(zip(blotted, scene.exposures, strict=True)):
        if tuple(np.shape(image)) != tuple(exposure.shape):
            raise ValueError(f"blotted image {k + 1} has shape {tuple(np.shape(image))}, "
                             f"its exposure {tuple(exposure.shape)}")
    rows, columns = _grid(1 + len(blotted))
    figure = Figure(figsize=(5.6 * columns, 5.0 * rows), layout="constrained")
    ax = figure.add_subplot(rows, columns, 1, projection=scene.wcs)
    shown = show(ax, scene.mosaic, noise=scene.noise, max_side=max_side,
                 title=f"mosaic, {scene.mosaic.shape[1]} x {scene.mosaic.shape[0]}, "
                       "and the exposures' footprints")
    for k, exposure in enumerate(scene.exposures):
        corners = footprint(exposure, scene.wcs)
        ax.fill(corners[:, 0], corners[:, 1], fill=False, color=f"C{k + 1}", lw=1.8,
                label=f"exposure {k + 1}")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    axes, off_mosaic = [ax], False
    for k, (exposure, image) in enumerate(zip(scene.exposures, blotted, strict=True)):
        ax = figure.add_subplot(rows, columns, k + 2, projection=exposure.wcs)
        drawn = show(ax, np.asarray(image), noise=scene.noise, max_side=max_side,
                     title=f"exposure {k + 1}: the mosaic blotted onto its grid\n"
                           f"roll {exposure.rotation:+.1f}°, pixels {exposure.scale:.3f} x "
                           "the mosaic's")
        off_mosaic = off_mosaic or bool(np.ma.getmaskarray(drawn.get_array()).any())
        ax.coords.frame.set_color(f"C{k + 1}")
        ax.coords.frame.set_linewidth(2.5)
        axes.append(ax)
    bar = figure.colorbar(shown, ax=axes, shrink=0.85, aspect=40)
    bar.set_label(stretch_label(scene.noise))
    if off_mosaic:
        from matplotlib.patches import Patch

        figure.legend(handles=[Patch(color=OFF_MOSAIC, label="off the mosaic (NaN)")],
                      loc="outside lower right", fontsize="small")
    return figure


def quicklook(path, scene, blotted, *, max_side=1024, dpi=100):
    """Write :func:`quicklook_figure` as a PNG.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write the PNG.
    scene : Scene
    blotted : sequence of array-like
        One blotted image per exposure (see :func:`quicklook_figure`).
    max_side : int, optional
    dpi : int, optional
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    check_replaceable(path)
    figure = quicklook_figure(scene, blotted, max_side=max_side)
    # Agg: the demo may run on a server with no display; never touch the user's backend.
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=dpi, metadata={"Software": SOFTWARE})


#: The PNG ``Software`` text of a quicklook: a rerun replaces only a file that says it.
SOFTWARE = "tileblot demo quicklook"


def check_replaceable(path):
    """``ValueError`` unless ``path`` is new or a quicklook this command wrote (not a link)."""
    path = Path(path)
    if path.is_symlink():
        raise ValueError(f"{str(path)!r} is a symbolic link; refusing to write through it")
    if not path.exists():
        return
    try:
        from PIL import Image

        with Image.open(path) as image:
            ours = image.info.get("Software") == SOFTWARE
    except Exception:  # not an image PIL can read: not ours either
        ours = False
    if not ours:
        raise ValueError(f"{str(path)!r} exists and is not a tileblot demo quicklook; "
                         "refusing to overwrite it")
