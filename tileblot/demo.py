"""Synthetic skies and pictures: what ``tileblot demo`` and the notebook are made of.

Nothing here is needed to blot. It makes inputs that look like astronomy, a
mosaic of stars, galaxies and noise on a tangent-plane WCS and dithered,
rolled exposures of it, and draws them on sky axes (astropy's WCSAxes), so
that a new user can see what tileblot does before trying it on real data.
astropy is needed for the WCSs, matplotlib for the pictures.

Scenes
------
make_scene
    A mosaic with a WCS and ``n`` dithered, rotated exposures (a ``Scene``).
tan_wcs
    A TAN WCS of a grid: scale, centre, roll.
synthetic_mosaic
    Stars, galaxies and noise on a grid.
simulate_exposure
    An "observed" exposure from a blot: fresh noise and cosmic rays.
footprint
    An exposure's corners in mosaic pixels.
write_mosaic
    The mosaic as a zarr array with its WCS in ``attrs["wcs"]`` (what
    ``tileblot blot --wcs-from`` reads).

Pictures
--------
show
    One image on (WCS) axes with the demo's named asinh stretch.
quicklook_figure, quicklook
    The mosaic with every footprint next to every blot, on the sky; as a
    figure or a PNG.
stretch_label
    The stretch, in words, for a colour bar.
"""

from ._cli._demo import write_mosaic
from ._cli._quicklook import quicklook, quicklook_figure, show, stretch_label
from ._cli._scene import (
    CENTER,
    MOSAIC_SCALE,
    Exposure,
    Scene,
    footprint,
    make_scene,
    simulate_exposure,
    synthetic_mosaic,
    tan_wcs,
)

__all__ = [
    "CENTER",
    "MOSAIC_SCALE",
    "Exposure",
    "Scene",
    "footprint",
    "make_scene",
    "quicklook",
    "quicklook_figure",
    "show",
    "simulate_exposure",
    "stretch_label",
    "synthetic_mosaic",
    "tan_wcs",
    "write_mosaic",
]
