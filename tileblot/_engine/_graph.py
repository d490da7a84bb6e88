"""Graph building: one dask task per output tile.

Two layouts, chosen by the data source:

- *sliceable* data (numpy, zarr, FITS, memmap, h5py, ...): the source sits in
  the graph once, under its own key, and each tile task slices the window it
  needs out of it. Windows depend on pixmap values, so they are found inside
  the task; nothing is read at graph-building time.
- *dask* data: a task cannot slice a lazy array without computing inside a
  task, so the windows are planned first (one pass over the pixmap, reading
  no data) and each tile task then depends on exactly the data blocks its
  window touches.

Both build a single low-level layer whose size is linear in the number of
tiles, named with :func:`dask.base.tokenize` so that equal inputs give equal
keys.
"""

import numpy as np
from dask.array import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from ._planning import coordinate_bbox, prepare_pixmap, window_dtype, window_for
from .._io._sources import source_token
from ._tile import blot_tile

_NO_WINDOW = (-1, -1, -1, -1)


def _slice_reader(source, precision):
    if (
        type(source) is np.ndarray
        and source.flags.c_contiguous
        and source.dtype == window_dtype(source.dtype, precision)
    ):
        # Already in memory, in the kernels' layout and dtype: the kernel
        # reads its window straight out of the whole array (it works in
        # global coordinates), which saves copying the window per tile.
        def read_window(window):
            return source, 0, 0

    else:

        def read_window(window):
            return source[window.slices], window.y0, window.x0

    return read_window


def _blot_sliceable_block(source, pixmap_block, shape, params):
    return blot_tile(_slice_reader(source, params.precision), pixmap_block, shape, params)


def _assembled_reader(pieces, bounds, dtype):
    def read_window(window):
        # The planned window, built from the data blocks it overlaps.
        array = np.empty(window.shape, dtype=dtype)
        for piece, (by0, by1, bx0, bx1) in zip(pieces, bounds, strict=True):
            y0, y1 = max(by0, window.y0), min(by1, window.y1)
            x0, x1 = max(bx0, window.x0), min(bx1, window.x1)
            array[y0 - window.y0 : y1 - window.y0, x0 - window.x0 : x1 - window.x0] = piece[
                y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0
            ]
        return array, window.y0, window.x0

    return read_window


def _blot_assembled_block(pieces, bounds, dtype, pixmap_block, shape, params):
    return blot_tile(_assembled_reader(pieces, bounds, dtype), pixmap_block, shape, params)


def _block_window(pixmap_block, shape, halo, precision):
    bbox = coordinate_bbox(prepare_pixmap(pixmap_block), shape, precision)
    if bbox is None:
        return np.array(_NO_WINDOW, dtype=np.int64).reshape(1, 1, 4)
    w = window_for(bbox, halo, shape)
    return np.array((w.y0, w.y1, w.x0, w.x1), dtype=np.int64).reshape(1, 1, 4)


def plan_windows(pixmap, shape, params):
    """Compute every tile's window now (reads the pixmap, no data).

    Returns an int array of shape ``(ntiles_y, ntiles_x, 4)`` holding
    ``(y0, y1, x0, x1)``, or ``-1`` for tiles that miss the image.
    """
    nty, ntx = pixmap.numblocks[:2]
    windows = pixmap.map_blocks(
        _block_window,
        shape,
        params.interp.halo,
        params.precision,
        chunks=((1,) * nty, (1,) * ntx, (4,)),
        dtype=np.int64,
        meta=np.empty((0, 0, 0), dtype=np.int64),
    )
    return windows.compute()


def _overlapping_blocks(edges, lo, hi):
    """Indices of the blocks with boundaries ``edges`` that overlap ``[lo, hi)``."""
    first = int(np.searchsorted(edges, lo, side="right")) - 1
    last = int(np.searchsorted(edges, hi, side="left")) - 1
    return range(first, last + 1)


def blot_graph(source, shape, pixmap, params):
    """The lazy blotted image: a float32 dask array chunked like ``pixmap``.

    Parameters
    ----------
    source : array-like or dask.array.Array
        The data, as returned by :func:`tileblot._sources.as_source`.
    shape : (int, int)
        Its shape.
    pixmap : dask.array.Array
        ``(ny, nx, 2)``, chunked ``(tile rows, tile columns, (2,))``.
    params : BlotParams
    """
    token = source_token(source)  # hashes an in-memory array: once
    name = "blot-" + tokenize(token, pixmap.name, shape, params.as_attrs())
    nty, ntx = pixmap.numblocks[:2]
    if isinstance(source, Array):
        dsk = _assembled_layer(name, source, shape, pixmap, params)
        dependencies = (pixmap, source)
    else:
        source_key = "blot-source-" + tokenize(token)
        dsk = {source_key: source}
        for ty in range(nty):
            for tx in range(ntx):
                dsk[(name, ty, tx)] = (
                    _blot_sliceable_block, source_key, (pixmap.name, ty, tx, 0), shape, params,
                )
        dependencies = (pixmap,)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=dependencies)
    meta = np.empty((0, 0), dtype=np.float32)
    return Array(graph, name, chunks=pixmap.chunks[:2], dtype=np.float32, meta=meta)


def _assembled_layer(name, data, shape, pixmap, params):
    windows = plan_windows(pixmap, shape, params)
    row_edges = np.concatenate(([0], np.cumsum(data.chunks[0])))
    col_edges = np.concatenate(([0], np.cumsum(data.chunks[1])))
    dsk = {}
    for (ty, tx), (y0, y1, x0, x1) in _iter_windows(windows):
        pixmap_key = (pixmap.name, ty, tx, 0)
        pieces, bounds = [], []
        if y0 >= 0:
            for by in _overlapping_blocks(row_edges, y0, y1):
                for bx in _overlapping_blocks(col_edges, x0, x1):
                    pieces.append((data.name, by, bx))
                    bounds.append(
                        (int(row_edges[by]), int(row_edges[by + 1]),
                         int(col_edges[bx]), int(col_edges[bx + 1]))
                    )
        dsk[(name, ty, tx)] = (
            _blot_assembled_block, pieces, bounds, data.dtype, pixmap_key, shape, params,
        )
    return dsk


def _iter_windows(windows):
    for ty in range(windows.shape[0]):
        for tx in range(windows.shape[1]):
            yield (ty, tx), tuple(int(v) for v in windows[ty, tx])

