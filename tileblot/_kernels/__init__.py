"""numba kernels: one interpolator family per module, arrays in, arrays out.

Every entry point has the same signature (see :mod:`tileblot._kernels._loop`)
and blots one output tile from a *window* of the data. Nothing here knows about
dask, zarr or files.
"""

from ._cache import drop_stale_cache

drop_stale_cache()
