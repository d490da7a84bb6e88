"""The output store: a zarr v3 group holding the blotted image and its tile records.

Layout of ``OUT.zarr``::

    OUT.zarr/            group; attrs["tileblot"] = what was blotted, how
      image              float32 array, one zarr chunk per output tile
      tiles_done         uint8 array, one 1x1 chunk per tile: 1 once complete

A tile task writes its chunk of ``image`` and *then* its own chunk of
``tiles_done``. Every task writes only its own chunks, so concurrent workers
never touch the same key; a tile counts as complete only when its record
exists, which is after its data is fully written. ``resume`` skips exactly
the recorded tiles.
"""

import json
import os
from pathlib import Path

import numpy as np
import zarr

from .._version import __version__

IMAGE = "image"
DONE = "tiles_done"
ATTR = "tileblot"


def _is_path(store):
    """A local path (a URL such as ``s3://...`` is a store, not a path)."""
    return isinstance(store, os.PathLike) or (isinstance(store, str) and "://" not in store)


def store_exists(store):
    """Whether ``store`` already holds anything (a non-empty path, or a zarr node)."""
    if _is_path(store):
        path = Path(store)
        return path.exists() and (not path.is_dir() or any(path.iterdir()))
    try:
        zarr.open(store=store, mode="r")
    except (FileNotFoundError, KeyError, ValueError, zarr.errors.NodeNotFoundError):
        return False
    return True


def _open_group(store, mode):
    return zarr.open_group(store=store, mode=mode)


def _is_tileblot_group(store):
    try:
        group = _open_group(store, "r")
    except (FileNotFoundError, KeyError, ValueError, zarr.errors.NodeNotFoundError):
        return False
    return isinstance(group, zarr.Group) and ATTR in group.attrs


def create_output(store, shape, chunks, fillval, meta, *, overwrite):
    """Create the output group; returns ``(image, tiles_done)`` zarr arrays.

    Refuses (``ValueError``) an existing store unless ``overwrite``, and never
    deletes a non-empty path that is not a tileblot output.
    """
    if store_exists(store):
        if not overwrite:
            raise ValueError(
                f"output store {_label(store)} already exists; pass overwrite=True to replace "
                "it or resume=True to finish an interrupted job"
            )
        if not _is_tileblot_group(store):
            raise ValueError(
                f"output store {_label(store)} exists and is not a tileblot output; "
                "refusing to delete it"
            )
    group = _open_group(store, "w")
    group.attrs[ATTR] = meta
    image = group.create_array(
        IMAGE, shape=shape, chunks=chunks, dtype=np.float32, fill_value=np.float32(fillval),
        attributes={ATTR: meta},
    )
    grid = tuple(-(-n // c) for n, c in zip(shape, chunks, strict=True))
    done = group.create_array(DONE, shape=grid, chunks=(1, 1), dtype=np.uint8, fill_value=0)
    return image, done


def _canonical(value):
    return json.dumps(value, sort_keys=True, allow_nan=True)


def open_for_resume(store, meta):
    """Open an existing output to resume it; refuse if it was made differently."""
    if not store_exists(store):
        raise ValueError(f"cannot resume: output store {_label(store)} does not exist")
    if not _is_tileblot_group(store):
        raise ValueError(f"cannot resume: {_label(store)} is not a tileblot output store")
    group = _open_group(store, "r+")
    recorded = dict(group.attrs[ATTR])
    for key in ("params", "data", "pixmap", "shape", "chunks"):
        if _canonical(recorded.get(key)) != _canonical(json.loads(_canonical(meta[key]))):
            raise ValueError(
                f"cannot resume {_label(store)}: it was written with {key} "
                f"{recorded.get(key)!r}, this job has {meta[key]!r}"
            )
    return group[IMAGE], group[DONE]


def completed_tiles(done):
    """Boolean grid of the tiles whose records say they are complete."""
    return np.asarray(done[...]) == 1


def write_tile(tile, image, done, ty, tx, rows, cols):
    """Write one tile's data, then its completion record. Returns 1."""
    image[rows, cols] = tile
    done[ty, tx] = 1
    return 1


def describe(store):
    """What an output store holds, for ``tileblot info``: a dict."""
    if not _is_tileblot_group(store):
        raise ValueError(f"{_label(store)} is not a tileblot output store")
    group = _open_group(store, "r")
    image, done = group[IMAGE], group[DONE]
    finished = completed_tiles(done)
    return {
        **dict(group.attrs[ATTR]),
        "store": _label(store),
        "shape": tuple(image.shape),
        "chunks": tuple(image.chunks),
        "dtype": str(image.dtype),
        "tiles": int(finished.size),
        "tiles_done": int(finished.sum()),
        "complete": bool(finished.all()),
    }


def make_meta(params, shape, chunks, data_info, pixmap_info):
    """The record kept in the store's attributes (JSON-ready)."""
    return {
        "version": __version__,
        "params": params.as_attrs(),
        "shape": list(shape),
        "chunks": list(chunks),
        "data": data_info,
        "pixmap": pixmap_info,
    }


def _label(store):
    if isinstance(store, (str, os.PathLike)):
        return repr(os.fspath(store))
    return type(store).__name__
