"""A tile's write into an output store: its chunk, then its record, while its job holds it.

The one thing a dask task does to the output (see :mod:`tileblot._io._store`
for the store's layout and protocol).
"""

import numpy as np

from . import _coverage, _lock
from ._chunks import ChunkWriter


class TileWriter:
    """Writes one tile's data, then its record (with its count), while its job owns the store.

    A dask task calls it once per tile. Before the data and again before the
    record it checks (one small read of the lock each) that ``job`` still
    holds the store: a task of a job that lost the store writes nothing more,
    and that job's final check fails.

    Parameters
    ----------
    image, done : zarr.Array
        The store's ``image`` and ``tiles_done`` arrays.
    root : zarr.storage.StorePath
        The output group's store and path (where the lock is).
    job : str
        The id of the job that writes.
    """

    def __init__(self, image, done, root, job):
        self.image = image
        self.done = done
        self.root = root
        self.job = job
        # One tile is one chunk of each array: whole-chunk writes in the task's own
        # thread, not through zarr's event loop (see ._chunks).
        self._image = ChunkWriter(image)
        self._done = ChunkWriter(done)

    def __call__(self, tile, ty, tx, onimage):
        """Write tile ``(ty, tx)``, with ``onimage`` of its pixels on the mosaic.

        Returns 1 once recorded, 0 if the job no longer owns the store.
        """
        if not _lock.owns(self.root, self.job):
            return 0
        self._image.write((ty, tx), tile)
        if not _lock.owns(self.root, self.job):
            return 0
        record = _coverage.record_value(onimage, self.done.dtype)
        self._done.write((ty, tx), np.full((1, 1), record, dtype=self.done.dtype))
        return 1
