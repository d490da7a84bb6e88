"""The tile graph every pixmap builder shares: one task per tile, given its pixel ranges."""

import dask.array as da
import numpy as np
from dask.delayed import delayed


def _tile(func, nbefore, *args, block_info=None):
    (y0, y1), (x0, x1), _ = block_info[None]["array-location"]
    return func(*args[:nbefore], y0, y1, x0, x1, *args[nbefore:])


def tile_graph(name, func, blocks, dtype, *, before=(), after=(), data=None):
    """A ``(ny, nx, 2)`` dask array, one task ``func(*before, y0, y1, x0, x1, *after)`` per tile.

    ``blocks`` are the tile lengths per axis (``normalize_tile_chunks``); ``before`` may
    name keys of ``data``, objects stored once in the graph rather than in every task
    (a WCS is large: one copy in the graph, not one per tile).

    Built with ``map_blocks`` (a blockwise layer), so the array culls, slices and fuses
    like any dask array. (``blot``'s tiles drop the pixmap's last axis, a contraction
    that dask's blockwise optimisation does not fuse across: measured with dask 2026.8.)
    """
    data = data or {}
    before = [
        delayed(data[item], name=item, traverse=False)
        if isinstance(item, str) and item in data else item
        for item in before
    ]
    return da.map_blocks(
        _tile, func, len(before), *before, *after,
        chunks=(*blocks, (2,)), dtype=dtype, name=name, meta=np.empty((0, 0, 0), dtype=dtype),
    )
