"""Where a distributed cluster runs the tiles: one band of tile rows per worker.

Each worker process decodes mosaic chunks into its own cache
(:mod:`tileblot._io._windows`), so a chunk is decoded once per worker whose
tiles read it. dask hands ready tiles to whichever worker is free, which
spreads neighbouring tiles over the workers and makes every worker decode
most of the exposure's chunks. Giving worker ``k`` the ``k``-th band of tile
rows, loosely, means only the chunks on the border of two bands are decoded
twice:

- :func:`tileblot.blot_to_zarr` computes one delayed per band, each with
  ``workers=`` and ``allow_other_workers=True``;
- :func:`tileblot.blot`'s lazy array is computed by whoever holds it, so it
  carries a :class:`BandPlacement` as its graph optimiser: dask's own array
  optimisation, then a ``workers`` annotation per tile and per task only
  that tile's band needs (its pixmap tile). Set on the layer before
  optimising, the annotation would not survive: dask's low-level fusion
  rebuilds the graph without annotations.

The restriction is loose either way: work stealing still balances the load,
and a band whose worker has gone runs elsewhere.
"""

from dask.array import Array
from dask.core import get_dependencies
from dask.highlevelgraph import HighLevelGraph, MaterializedLayer
from dask.utils import ensure_dict

from ._clients import worker_addresses
from ._planning import row_bands


class BandPlacement:
    """The graph optimiser of a lazy blotted image that places its tiles in bands.

    Parameters
    ----------
    name : str
        The array's name: its tiles are the keys ``(name, row, column)``.
    nrows : int
        Number of tile rows.
    workers : sequence of str
        Worker addresses; band ``k`` of the tile rows (see
        :func:`~tileblot._engine._planning.row_bands`) goes to ``workers[k]``.
    """

    def __init__(self, name, nrows, workers):
        self.name = name
        self.worker_of_row = {}
        # At most one band per row: with more workers than rows, the last ones get none.
        for worker, rows in zip(workers, row_bands(nrows, len(workers)), strict=False):
            self.worker_of_row.update(dict.fromkeys(range(rows.start, rows.stop), worker))

    def __call__(self, dsk, keys, **kwargs):
        # Array.__dask_optimize__ is dask's array optimisation, as configured
        # ("array_optimize"); it may return a plain dict, annotations dropped.
        dsk = ensure_dict(Array.__dask_optimize__(dsk, keys, **kwargs))
        placed = _Placed(self._place(dsk))
        rest = self.name + "-inputs"
        return HighLevelGraph(
            {self.name: MaterializedLayer(
                {key: dsk[key] for key in placed.worker_of},
                annotations={"workers": placed, "allow_other_workers": True}),
             rest: MaterializedLayer(
                {key: task for key, task in dsk.items() if key not in placed.worker_of})},
            {self.name: {rest}, rest: set()},
        )

    def _place(self, dsk):
        """``{key: worker}`` of every tile and of every task that only one worker's tiles need.

        A tile's own inputs (its pixmap tile and what computes it; dask does
        not fuse them into the tile) go with it: left to dask, they would run
        on any worker and be sent to the tile's, and dask would see the tile
        as cheap to move elsewhere. Inputs shared across bands (the source)
        stay unplaced.
        """
        needed_by = {}  # key -> workers whose tiles need it
        for key in dsk:
            if not _is_tile(key, self.name):
                continue
            worker = self.worker_of_row[key[1]]
            needed_by[key] = {worker}
            stack = list(get_dependencies(dsk, key))
            while stack:
                dep = stack.pop()
                workers = needed_by.setdefault(dep, set())
                if worker not in workers:  # else its inputs are marked already
                    workers.add(worker)
                    stack.extend(get_dependencies(dsk, dep))
        return {key: next(iter(ws)) for key, ws in needed_by.items() if len(ws) == 1}


class _Placed:
    """The ``workers`` annotation of a placed graph's keys (picklable, evaluated per key)."""

    def __init__(self, worker_of):
        self.worker_of = worker_of  # {key: worker address}

    def __call__(self, key):
        return [self.worker_of[key]]


def _is_tile(key, name):
    return type(key) is tuple and len(key) == 3 and key[0] == name


def place_bands(array, client):
    """``array``, set to run band ``k`` of its tile rows on ``client``'s worker ``k``.

    Unchanged without a running client, with fewer than two workers, or
    with one row of tiles. The workers are those of the moment: one that
    leaves before the compute leaves its band to the others.

    Parameters
    ----------
    array : dask.array.Array
        A lazy blotted image, one chunk per tile (:func:`~._graph.blot_graph`).
    client : distributed.Client or None

    Returns
    -------
    dask.array.Array
        ``array`` itself.
    """
    if client is None or client.status != "running" or array.numblocks[0] < 2:
        return array
    try:
        workers = worker_addresses(client)
    except OSError:  # the scheduler is gone (distributed's CommClosedError): place nothing
        return array
    if len(workers) > 1:
        from ._restrictions import loosen_on

        loosen_on(client)  # or a band placed on workers that all left would never run
        # dask reads a collection's optimiser from the collection, so the
        # instance's own replaces Array's for this array only; arrays derived
        # from it (sliced, added, ...) get dask's again, and so no placement.
        array.__dask_optimize__ = BandPlacement(array.name, array.numblocks[0], workers)
    return array
