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
import math
import os
from pathlib import Path

import numpy as np
import zarr

from .._version import __version__
from ._codecs import output_compressors
from ._identity import difference

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


def create_output(store, shape, chunks, fillval, record, *, overwrite, compressors=None):
    """Create the output group; returns ``(image, tiles_done)`` zarr arrays.

    ``record`` is the job plan's record (:meth:`BlotPlan.record`); the store
    keeps it with tileblot's version. Refuses (``ValueError``) an existing
    store unless ``overwrite``, and never deletes a non-empty path that is
    not a tileblot output. ``compressors`` is the image's codec (see
    :func:`tileblot._io._codecs.output_compressors`; tileblot's default if ``None``).
    """
    meta = json_safe({"version": __version__, **record})  # valid JSON: no bare NaN
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
        attributes={ATTR: meta}, compressors=output_compressors(compressors),
    )
    grid = tuple(-(-n // c) for n, c in zip(shape, chunks, strict=True))
    done = group.create_array(DONE, shape=grid, chunks=(1, 1), dtype=np.uint8, fill_value=0)
    return image, done


def _canonical(value):
    # Through JSON, as the store keeps it: tuples and lists compare equal, and NaN (a record
    # written before json_safe) equals "NaN".
    return json.dumps(json_safe(value), sort_keys=True)


_RECORD_WORDS = {
    "shape": "output shape",
    "chunks": "tile size",
}


def open_for_resume(store, record):
    """Open an existing output to resume it; refuse if it was made differently.

    The refusal names, in a user's words, the first thing that differs: a
    parameter, the output shape or tiling, or which input is another one or
    was modified since the job started.
    """
    if not store_exists(store):
        raise ValueError(f"cannot resume: output store {_label(store)} does not exist")
    if not _is_tileblot_group(store):
        raise ValueError(f"cannot resume: {_label(store)} is not a tileblot output store")
    group = _open_group(store, "r+")
    recorded = dict(group.attrs[ATTR])
    then_params, now_params = recorded.get("params") or {}, record["params"]
    changed = [k for k in sorted(set(then_params) | set(now_params))
               if _canonical(then_params.get(k)) != _canonical(now_params.get(k))]
    if changed:
        details = "; ".join(f"{k}={_show(then_params.get(k))} then, {_show(now_params.get(k))} "
                            "now" for k in changed)
        raise ValueError(f"cannot resume {_label(store)}: the job started with other "
                         f"parameters ({details})")
    for key in ("shape", "chunks"):
        then, now = _canonical(recorded.get(key)), _canonical(record[key])
        if then != now:
            raise ValueError(
                f"cannot resume {_label(store)}: its {_RECORD_WORDS[key]} differs: the job "
                f"started with {_show(recorded.get(key))}, this run has {_show(record[key])}"
            )
    for key in ("data", "pixmap"):
        reason = difference(key, recorded.get(key), record[key])
        if reason:
            raise ValueError(f"cannot resume {_label(store)}: {reason}")
    return group[IMAGE], group[DONE]


def _show(value):
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return " x ".join(str(v) for v in value)
    return str(value)


def recorded_tile_size(store):
    """The tile size ``(cy, cx)`` an existing output records, or ``None``."""
    if not _is_tileblot_group(store):
        return None
    chunks = _open_group(store, "r").attrs[ATTR].get("chunks")
    return tuple(int(c) for c in chunks) if chunks else None


def completed_tiles(done):
    """Boolean grid of the tiles whose records say they are complete."""
    return np.asarray(done[...]) == 1


class TileWriter:
    """Writes one tile's data, then its completion record (a dask task calls it).

    Parameters
    ----------
    image, done : zarr.Array
        The store's ``image`` and ``tiles_done`` arrays.
    tiling : Tiling
        The plan's tiling, to find each tile's rows and columns.
    """

    def __init__(self, image, done, tiling):
        self.image = image
        self.done = done
        self.rows, self.cols = tiling.slices()

    def __call__(self, tile, ty, tx):
        self.image[self.rows[ty], self.cols[tx]] = tile
        self.done[ty, tx] = 1
        return 1


def describe(store):
    """What an output store holds, for ``tileblot info``: a dict."""
    if not _is_tileblot_group(store):
        raise ValueError(f"{_label(store)} is not a tileblot output store")
    group = _open_group(store, "r")
    image, done = group[IMAGE], group[DONE]
    finished = completed_tiles(done)
    record = dict(group.attrs[ATTR])
    if isinstance(record.get("params"), dict):  # numbers again, NaN included (see json_safe)
        record["params"] = {key: float(value) if value in _NON_FINITE else value
                            for key, value in record["params"].items()}
    return {
        **record,
        "store": _label(store),
        "shape": tuple(image.shape),
        "chunks": tuple(image.chunks),
        "dtype": str(image.dtype),
        "tiles": int(finished.size),
        "tiles_done": int(finished.sum()),
        "complete": bool(finished.all()),
    }


def store_label(store):
    """How a store is named in messages and graph keys."""
    return _label(store)


_NON_FINITE = ("NaN", "Infinity", "-Infinity")


def json_safe(value):
    """``value`` with every non-finite float spelled as zarr v3 spells fill values.

    ``NaN``, ``Infinity`` and ``-Infinity`` become the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"``: JSON has no such numbers (Python's
    ``json`` writes them bare, which other readers reject), and ``float()``
    reads these strings back.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _label(store):
    if isinstance(store, (str, os.PathLike)):
        return repr(os.fspath(store))
    return type(store).__name__
