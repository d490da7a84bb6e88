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
warmup
    Compile (or load from numba's disk cache) the kernels ahead of a job.
open_output, export_fits, BlotOutput
    An output store's image with its record (and WCS); its export to FITS.
verify_output, break_lock
    Check an output store chunk by chunk (and repair it for resume); remove
    the lock of a job that is gone.
CoverageWarning, COVERAGE_THRESHOLD
    The warning of an output whose exposure (nearly) misses the mosaic.
DamagedInputError
    The error of a task that cannot decode the input where it reads it.

Names are imported on first use, so that ``from tileblot import blot_image``
loads neither dask nor zarr.
"""

from importlib import import_module as _import_module

from ._version import __version__

# Public name -> module that defines it.
_EXPORTS = {
    "BlotOutput": "._api._output",
    "COVERAGE_THRESHOLD": "._engine._coverage",
    "CoverageWarning": "._engine._coverage",
    "DamagedInputError": "._io._errors",
    "INTERPOLATORS": "._kernels._registry",
    "PRECISIONS": "._kernels._registry",
    "affine_pixmap": "._pixmaps._affine",
    "blot": "._api._blot",
    "blot_image": "._api._blot_image",
    "blot_to_zarr": "._api._blot_to_zarr",
    "break_lock": "._io._maintenance",
    "export_fits": "._api._output",
    "open_output": "._api._output",
    "pixmap_from_wcs": "._pixmaps._wcs",
    "verify_output": "._io._maintenance",
    "warmup": "._api._warmup",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'tileblot' has no attribute {name!r}") from None
    value = getattr(_import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
