"""tileblot: drizzle's blot for mosaics of any size, tile by tile, with dask and numba.

Public API
----------
blot_image
    Drop-in replacement for ``drizzle.resample.blot_image`` (eager, numpy).
blot
    Lazy blot: a dask array, one task per output tile.
blot_to_zarr
    Blot straight into a zarr store, tile by tile, resumable, on any dask
    scheduler or cluster.
pixmap_from_wcs, affine_pixmap
    Lazy pixmaps from a pair of WCSs, or from an affine map.
"""

from ._blot import blot
from ._blot_image import blot_image
from ._blot_to_zarr import blot_to_zarr
from ._pixmap import affine_pixmap, pixmap_from_wcs
from ._registry import INTERPOLATORS, PRECISIONS
from ._version import __version__

__all__ = [
    "INTERPOLATORS",
    "PRECISIONS",
    "__version__",
    "affine_pixmap",
    "blot",
    "blot_image",
    "blot_to_zarr",
    "pixmap_from_wcs",
]
