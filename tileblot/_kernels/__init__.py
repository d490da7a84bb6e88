"""numba kernels: one interpolator family per module, arrays in, arrays out.

Every entry point has the same signature (see :mod:`tileblot._kernels._loop`)
and blots one output tile from a *patch*: the array of the data its window
covers (the window, a rectangle, is planned in :mod:`tileblot._engine._planning`).
Nothing here knows about dask, zarr or files.
"""

from ._cache import drop_stale_cache

drop_stale_cache()
