"""A tile's write into an output store: its chunk, then its record, while its job holds it.

The one thing a dask task does to the output (see :mod:`tileblot._io._store`
for the store's layout and protocol).
"""

import os
import socket

import numpy as np

from . import _coverage, _lock
from ._chunks import ChunkWriter


class StoreLostError(RuntimeError):
    """Raised by a tile task whose job no longer holds its output store: the job stops there.

    Its store deleted, or taken by another job: every tile still to come would
    be computed for nothing (before, a job ran to its end to fail its final
    check). The client replaces it with what the store says happened (see
    :func:`tileblot._io._verify.stopped_error`).
    """


class TileWriter:
    """Writes one tile's data, then its record (with its count), while its job owns the store.

    A dask task calls it once per tile. Before the data and again before the
    record it checks (one small read of the lock each) that ``job`` still
    holds the store: a task of a job that lost the store writes nothing more,
    and raises :class:`StoreLostError`, which stops the job.

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

        :class:`StoreLostError`, with nothing (more) written, if the job no longer owns the store.
        """
        self._check(ty, tx)
        self._image.write((ty, tx), tile)
        self._check(ty, tx)
        record = _coverage.record_value(onimage, self.done.dtype)
        self._done.write((ty, tx), np.full((1, 1), record, dtype=self.done.dtype))

    def _check(self, ty, tx):
        if not _lock.owns(self.root, self.job):
            # Where: a worker that does not see the store the client sees finds no lock either.
            raise StoreLostError(f"tile ({ty}, {tx}): job {self.job} no longer holds output "
                                 f"store {self.root}, as seen by pid {os.getpid()} on "
                                 f"{socket.gethostname()}")
