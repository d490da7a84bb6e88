"""Checking an output store against itself: records, chunks, ownership, decodability.

Everything here learns which tiles exist from **one listing** of the store's
keys (a directory walk locally, zarr's ``list_prefix`` — paged LIST requests
on an object store — elsewhere), never from one read per tile, so it stays
cheap at 10^5 tiles. A tile is *done* when its ``tiles_done`` record and its ``image``
chunk both exist; ``image`` is written with ``write_empty_chunks=True``, so a
tile that is all ``fillval`` has its chunk too.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from zarr.core.sync import sync
from zarr.storage import LocalStore

from . import _lock
from ._errors import undecodable
from ._layout import DONE, IMAGE


async def _collect(store, prefix):
    return [key async for key in store.list_prefix(prefix)]


def _walk(top):
    # os.walk reads directory entries without a stat per file: 2 s for 2e5
    # files where zarr's LocalStore.list_prefix (Path.rglob + is_file) takes 40.
    for folder, _, files in os.walk(top):
        rel = os.path.relpath(folder, top)
        for name in files:
            yield name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")


def list_keys(root, prefix):
    """Every key under ``prefix`` of ``root``'s group, relative to the group."""
    base = f"{root.path}/" if root.path else ""
    if isinstance(root.store, LocalStore):
        top = os.path.join(root.store.root, base + prefix)
        return [prefix + key for key in _walk(top)]
    keys = sync(_collect(root.store, base + prefix))
    return [key[len(base):] for key in keys]


@dataclass(frozen=True)
class TileState:
    """What one listing says about each tile (boolean grids of the tile grid's shape)."""

    recorded: np.ndarray  # its tiles_done chunk exists
    chunk: np.ndarray  # its image chunk exists

    @property
    def done(self):
        return self.recorded & self.chunk


def _mark(grid, key, prefix):
    # Chunk keys are "<array>/c/<row>/<col>" (zarr v3's default encoding,
    # which tileblot always uses).
    parts = key[len(prefix):].split("/")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        ty, tx = int(parts[0]), int(parts[1])
        if ty < grid.shape[0] and tx < grid.shape[1]:
            grid[ty, tx] = True


def scan(root, grid_shape):
    """One listing of the store: which tiles have a record, which an image chunk."""
    recorded = np.zeros(grid_shape, dtype=bool)
    chunk = np.zeros(grid_shape, dtype=bool)
    for key in list_keys(root, ""):
        if key.startswith(f"{DONE}/c/"):
            _mark(recorded, key, f"{DONE}/c/")
        elif key.startswith(f"{IMAGE}/c/"):
            _mark(chunk, key, f"{IMAGE}/c/")
    return TileState(recorded, chunk)


def tile_list(mask):
    """The ``(row, column)`` tile indices where ``mask`` is true, as a list of lists."""
    return [[int(ty), int(tx)] for ty, tx in np.argwhere(mask)]


def _root_exists(root):
    """Whether the output group's own metadata is still there (not in a deleted store)."""
    key = f"{root.path}/zarr.json" if root.path else "zarr.json"
    try:
        return bool(sync(root.store.exists(key)))
    except FileNotFoundError:  # the bucket or folder itself is gone
        return False


def ownership_error(root, job, *, label):
    """The ``RuntimeError`` for a store that ``job`` no longer holds (deleted or taken), or None."""
    owner = _lock.read_lock(root)
    if owner is not None and owner.get("job") == job:
        return None
    if owner is None and not _root_exists(root):
        return RuntimeError(f"output store {label} was deleted while this job ran (its lock "
                            "and its metadata are gone): run the job again")
    if owner is None:
        advice = ("nobody holds it now (the job that took it may have finished it): check "
                  "it with tileblot info, and finish it with resume=True (--resume) if not")
    else:  # an overwrite would destroy the output of the job that holds it now
        advice = (f"it is now held by {_lock.describe_owner(owner)}: leave it to that job "
                  "(tileblot info says how far it got)")
    return RuntimeError(f"output store {label} was taken over while this job ran; this job's "
                        f"tiles cannot be trusted, and {advice}")


def stopped_error(roots, labels, job, lost_error):
    """The ``RuntimeError`` of a job stopped by a task that found a store lost (``lost_error``,
    a :class:`~tileblot._io._tile_writer.StoreLostError`).

    It names each store ``job`` no longer holds and what became of it, and the
    stores it still holds, which it leaves unfinished (for a resume). If this
    process sees every store still held by ``job``, the task's worker sees
    another place there: it says that the workers do not see the stores.
    """
    errors = [ownership_error(root, job, label=label)
              for root, label in zip(roots, labels, strict=True)]
    lost = [str(error) for error in errors if error is not None]
    if not lost:
        return RuntimeError(
            f"a tile task found no lock of this job in its output store, yet this process sees "
            f"{'every output store' if len(labels) > 1 else 'it'} ({', '.join(labels)}) held "
            "by the job: the workers do not see the store this process writes (a local path "
            "on nodes without a shared filesystem, or one that leads elsewhere on theirs); use "
            f"a filesystem or object store all workers share ({lost_error})")
    kept = [label for label, error in zip(labels, errors, strict=True) if error is None]
    if kept:
        lost.append(f"this job stopped there, leaving {', '.join(kept)} unfinished: finish "
                    f"{'them' if len(kept) > 1 else 'it'} with resume=True (--resume)")
    return RuntimeError("; ".join(lost))


def check_complete(root, grid_shape, job, *, label):
    """Raise ``RuntimeError`` unless ``job`` still owns the store and every tile is done."""
    error = ownership_error(root, job, label=label)
    if error is not None:
        raise error
    state = scan(root, grid_shape)
    missing = int((~state.done).sum())
    if missing:
        no_record = int((~state.recorded).sum())
        no_chunk = int((state.recorded & ~state.chunk).sum())
        raise RuntimeError(
            f"output store {label}: {missing} of {state.done.size} tiles are missing after the "
            f"job ran ({no_record} without a completion record, {no_chunk} recorded without "
            "their image chunk). The likely cause: the store is not shared with the workers "
            "(an in-memory store, or a local path on a cluster without a shared filesystem)"
        )


def _decodes(image, done, ty, tx):
    try:
        block = image.get_block_selection((ty, tx))
        record = done.get_block_selection((ty, tx))
    except Exception as exc:
        if undecodable(exc):
            return False
        raise  # a read that failed (a timeout, a file gone) says nothing of the tile
    # A record is 1 + the tile's count (1 in stores from before the count).
    return bool(np.asarray(record).ravel()[0] >= 1) and block.dtype == image.dtype


def corrupt_tiles(image, done, state, *, threads=8):
    """Boolean grid of done tiles whose image chunk or record does not decode.

    Reads and decodes every done tile (``threads`` at a time): as costly as
    reading the whole image once.
    """
    tiles = [tuple(int(v) for v in t) for t in np.argwhere(state.done)]
    bad = np.zeros(state.done.shape, dtype=bool)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = pool.map(lambda t: _decodes(image, done, *t), tiles)
        for (ty, tx), ok in zip(tiles, results, strict=True):
            bad[ty, tx] = not ok
    return bad


def forget_tiles(root, mask):
    """Delete the records (and image chunks) of the tiles in ``mask``: resume redoes them."""
    keys = []
    for ty, tx in np.argwhere(mask):
        keys += [f"{DONE}/c/{ty}/{tx}", f"{IMAGE}/c/{ty}/{tx}"]
    base = f"{root.path}/" if root.path else ""
    for key in keys:
        sync(root.store.delete(base + key))
