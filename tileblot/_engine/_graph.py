"""Graph building: one dask task per output tile, from a :class:`BlotPlan`.

Two layouts, chosen by the data:

- *sliceable* data (numpy, zarr, FITS, memmap, h5py, ...): the source sits in
  the graph once, under its own key, and ``blockwise`` over the pixmap makes
  one task per tile that slices the window it needs out of it. Windows depend
  on pixmap values, so they are found inside the task; nothing is read at
  graph-building time, and blockwise pixmap producers (``pixmap_from_wcs``)
  fuse with the tiles.
- *dask* data: a task cannot slice a lazy array without computing inside a
  task, so the plan carries every tile's window (planned from the pixmap
  alone) and a low-level layer wires each tile to exactly the data blocks its
  window touches. Tiles that miss the image are constant tasks that depend on
  nothing.

The write layer (:func:`write_graph`) is low-level too: one task per tile to
write, so that a resumed job's graph holds, after culling, only the tiles it
still has to compute. Names come from :func:`dask.base.tokenize` through the
plan's token: equal plans give equal keys.
"""

import numpy as np
from dask.array import Array, blockwise
from dask.delayed import Delayed, delayed
from dask.highlevelgraph import HighLevelGraph
from dask.task_spec import DataNode, List, Task, TaskRef

from ._budget import task_budget
from ._plan import TileWindows
from ._planning import block_window, window_dtype
from ._tile import WholeImage, blot_tile, blot_tile_counted

_META = np.empty((0, 0), dtype=np.float32)


def _slice_reader(source, precision):
    if hasattr(source, "read_window"):
        # A chunked store read through the process's chunk cache
        # (tileblot._io._windows): each chunk decoded about once.
        def read_from_store(window):
            return source.read_window(window, window_dtype(source.dtype, precision))

        return read_from_store
    if (
        type(source) is np.ndarray
        and source.flags.c_contiguous
        and source.dtype == window_dtype(source.dtype, precision)
    ):
        # Already in memory, in the kernels' layout and dtype: the kernel
        # reads straight out of the whole array (it works in global
        # coordinates), which saves copying a window per tile.
        return WholeImage(source)

    def read_slice(window):
        return source[window.slices], window.y0, window.x0

    return read_slice


def _blot_sliceable_block(pixmap_blocks, source, shape, params, counted=False):
    # One block along the pixmap's last axis, as it is (a view: not concatenated).
    (pixmap_block,) = pixmap_blocks
    # Reading a window costs memory unless the source is an array in memory:
    # then a tile over budget is blotted in pieces, each reading its own window (see _budget).
    budget = None if isinstance(source, np.ndarray) else task_budget()
    blot = blot_tile_counted if counted else blot_tile
    return blot(_slice_reader(source, params.precision), pixmap_block, shape, params,
                budget=budget)


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


def _blot_assembled_block(pieces, bounds, dtype, pixmap_block, shape, params, counted=False):
    result = blot_tile_counted(_assembled_reader(pieces, bounds, dtype), pixmap_block, shape,
                               params)
    return result if counted else result[0]


def _fill_tile(shape, fillval, counted=False):
    tile = np.full(shape, fillval, dtype=np.float32)
    return (tile, 0) if counted else tile


def _window_block(pixmap_block, shape, halo, precision):
    window = block_window(pixmap_block, shape, halo, precision)
    bounds = (-1, -1, -1, -1) if window is None else (window.y0, window.y1, window.x0, window.x1)
    return np.array(bounds, dtype=np.int64).reshape(1, 1, 4)


def planned_windows(pixmap, shape, params):
    """Every tile's window, computed now from the pixmap (no data is read).

    Parameters
    ----------
    pixmap : dask.array.Array
        ``(ny, nx, 2)``, one chunk per tile.
    shape : (int, int)
        Shape of the data.
    params : BlotParams

    Returns
    -------
    TileWindows
    """
    nty, ntx = pixmap.numblocks[:2]
    bounds = pixmap.map_blocks(
        _window_block, shape, params.interp.halo, params.precision,
        chunks=((1,) * nty, (1,) * ntx, (4,)), dtype=np.int64,
        meta=np.empty((0, 0, 0), dtype=np.int64),
    ).compute()
    return TileWindows(bounds[..., 0] >= 0, bounds)


def blot_graph(plan, *, counted=False):
    """The lazy blotted image of ``plan``: a float32 dask array, one chunk per tile.

    Parameters
    ----------
    plan : BlotPlan
    counted : bool, optional
        Make each chunk a pair ``(tile, onimage)`` instead: the tile and how
        many of its pixels fall on the image (see
        :mod:`tileblot._engine._coverage`). Such an array is only a graph
        for :func:`write_graph` to read from, never an array to compute.

    Returns
    -------
    dask.array.Array
    """
    name = ("blot-counted-" if counted else "blot-") + plan.token
    if plan.windows is not None:
        return _assembled_graph(name, plan, counted)
    # The source goes into the graph once, under a key named by its identity
    # (so it is never hashed again), and every tile task refers to it.
    source = delayed(plan.data.array, name="blot-source-" + plan.data.token, traverse=False)
    # blockwise rather than map_blocks: dropping the pixmap's last axis, map_blocks
    # would concatenate each tile's one block along it, copying every pixmap tile.
    return blockwise(
        _blot_sliceable_block, "ij", plan.pixmap.array, "ijk", source, None,
        plan.data_shape, None, plan.params, None, counted, None,
        concatenate=False, dtype=np.float32, meta=_META, name=name,
    )


def _overlapping_blocks(edges, lo, hi):
    """Indices of the blocks with boundaries ``edges`` that overlap ``[lo, hi)``."""
    first = int(np.searchsorted(edges, lo, side="right")) - 1
    last = int(np.searchsorted(edges, hi, side="left")) - 1
    return range(first, last + 1)


def _assembled_graph(name, plan, counted):
    data, pixmap = plan.data.array, plan.pixmap.array
    row_edges = np.concatenate(([0], np.cumsum(data.chunks[0])))
    col_edges = np.concatenate(([0], np.cumsum(data.chunks[1])))
    rows, cols = plan.tiling.chunks
    dsk = {}
    for ty, ny in enumerate(rows):
        for tx, nx in enumerate(cols):
            key = (name, ty, tx)
            window = plan.windows.window(ty, tx)
            if window is None:
                dsk[key] = Task(key, _fill_tile, (ny, nx), np.float32(plan.params.fillval),
                                counted)
                continue
            pieces, bounds = [], []
            for by in _overlapping_blocks(row_edges, window.y0, window.y1):
                for bx in _overlapping_blocks(col_edges, window.x0, window.x1):
                    pieces.append(TaskRef((data.name, by, bx)))
                    bounds.append((int(row_edges[by]), int(row_edges[by + 1]),
                                   int(col_edges[bx]), int(col_edges[bx + 1])))
            dsk[key] = Task(
                key, _blot_assembled_block, List(*pieces), DataNode(None, bounds), data.dtype,
                TaskRef((pixmap.name, ty, tx, 0)), plan.data_shape, plan.params, counted,
            )
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=(pixmap, data))
    return Array(graph, name, chunks=plan.tiling.chunks, dtype=np.float32, meta=_META)


def _write(writer, result, ty, tx):
    tile, onimage = result
    writer(tile, ty, tx, onimage)
    return 1, onimage


def _count(written):
    return tuple(int(sum(column)) for column in zip(*written, strict=True)) if written else (0, 0)


def write_graph(name, tiles, writer, todo):
    """A delayed that writes tiles ``todo`` of ``tiles`` with ``writer``; computes their counts.

    Parameters
    ----------
    name : str
        The layer's name (deterministic: e.g. from the plan's token and the store).
    tiles : dask.array.Array
        The blotted image with counts, one ``(tile, onimage)`` chunk per tile
        (``blot_graph(plan, counted=True)``).
    writer : callable
        ``writer(tile, ty, tx, onimage)``, picklable; stored once in the
        graph. Records the tile and ``onimage``, its pixels on the image, or
        raises.
    todo : iterable of (int, int)
        The tiles to write; the others are culled from the graph.

    Returns
    -------
    dask.delayed.Delayed
        Computes ``(tiles recorded, their pixels on the image)``.
    """
    writer_key = name + "-writer"
    dsk = {writer_key: DataNode(writer_key, writer)}
    written = []
    for ty, tx in todo:
        key = (name, ty, tx)
        dsk[key] = Task(key, _write, TaskRef(writer_key), TaskRef((tiles.name, ty, tx)), ty, tx)
        written.append(TaskRef(key))
    dsk[name] = Task(name, _count, List(*written))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=(tiles,))
    return Delayed(name, graph)
