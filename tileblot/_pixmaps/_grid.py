"""The tile graph every pixmap builder shares: one task per tile, given its pixel ranges."""

import dask.array as da
from dask.highlevelgraph import HighLevelGraph

from .._engine._plan import Tiling


def tile_graph(name, func, blocks, dtype, *, before=(), after=(), data=None):
    """A ``(ny, nx, 2)`` dask array, one task ``func(*before, y0, y1, x0, x1, *after)`` per tile.

    ``blocks`` are the tile lengths per axis (``normalize_tile_chunks``); ``before`` may
    name keys of ``data``, objects stored once in the graph rather than in every task
    (a WCS is large: one copy in the graph, not one per tile). The tasks depend on
    nothing else, so the array culls and slices like any dask array.
    """
    row_slices, col_slices = Tiling(blocks).slices()
    dsk = dict(data or {})
    for iy, rows in enumerate(row_slices):
        for ix, cols in enumerate(col_slices):
            ranges = (rows.start, rows.stop, cols.start, cols.stop)
            dsk[(name, iy, ix, 0)] = (func, *before, *ranges, *after)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=(*blocks, (2,)), dtype=dtype)
