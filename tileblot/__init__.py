"""tileblot: drizzle's blot for mosaics of any size, tile by tile, with dask and numba."""

from ._blot_image import blot_image
from ._registry import INTERPOLATORS, PRECISIONS
from ._version import __version__

__all__ = ["INTERPOLATORS", "PRECISIONS", "__version__", "blot_image"]
