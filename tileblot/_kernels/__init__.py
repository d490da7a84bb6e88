"""numba kernels: one interpolator family per module, arrays in, arrays out.

Every entry point has the same signature (see :mod:`tileblot._kernels._loop`)
and blots one output tile from a *patch*: the array of the data its window
covers (the window, a rectangle, is planned in :mod:`tileblot._engine._planning`).
Nothing here knows about dask, zarr or files.
"""

from ._cache import drop_stale_cache, numba_cache_dir

#: Where numba caches the kernels (``None``: nowhere it can write, so every process compiles
#: them; asked with ``cache=True``, numba would refuse to define them at all).
CACHE_DIR = numba_cache_dir()
if CACHE_DIR is not None:
    drop_stale_cache(cache=CACHE_DIR)
