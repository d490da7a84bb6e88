"""The output store: a zarr v3 group holding the blotted image and its tile records.

Layout of ``OUT.zarr`` (everything tileblot writes; nothing else is touched)::

    OUT.zarr/            group; attrs["tileblot"] = the job's record
      image              float32 array, one zarr chunk per output tile
      tiles_done         int64 array, one 1x1 chunk per tile: its record, written once
                         the tile is complete: 1 + its pixels on the mosaic (_coverage;
                         the total in its attributes once the job is complete)
      tileblot_lock      group whose attributes name the job writing it (_lock)

Protocol
--------
- A job takes the store's lock before it writes anything and holds it to the
  end; a store another live job holds is refused (:mod:`._lock`).
- A tile task checks its job still owns the store, writes its chunk of
  ``image``, checks again and *then* writes its own chunk of ``tiles_done``
  (one write carries both the record and the tile's coverage count). A task
  that finds the store lost stops the job (``_tile_writer.StoreLostError``).
  Every task writes only its own chunks, so concurrent workers never touch the
  same key. ``image`` is created with ``write_empty_chunks=True``: every
  written tile has a chunk, even one that is all ``fillval``.
- A tile is *done* when its record **and** its image chunk exist. One listing
  of the store's keys tells both (:mod:`._verify`): the end of every job
  checks that all tiles are done, resume recomputes the tiles that are not,
  and ``describe`` reports records whose chunk is missing.
- ``overwrite`` deletes only the nodes above (root metadata, ``image``,
  ``tiles_done``, the lock), and only in a store that is a tileblot output;
  any other file in it stays. An input inside the output store is refused.
"""

import os

import numpy as np
import zarr
from zarr.core.sync import sync
from zarr.storage._common import make_store_path

from .._version import __version__
from . import _coverage, _lock, _urls, _verify
from ._codecs import output_compressors
from ._layout import ATTR, DONE, IMAGE
from ._locations import is_local_path, store_label
from ._record import REMEDY, json_safe, read_record, same_record

# write_empty_chunks is a run-time setting, not stored in the metadata: every
# opening of ``image`` for writing passes it again.
_IMAGE_CONFIG = {"write_empty_chunks": True}
_NOT_FOUND = (FileNotFoundError, KeyError, ValueError, zarr.errors.NodeNotFoundError)


def check_not_symlink(store):
    """``ValueError`` if a local output store is a symbolic link (never followed to write)."""
    if is_local_path(store) and _urls.local_path(store).is_symlink():
        target = os.readlink(_urls.local_path(store))
        raise ValueError(
            f"output store {store_label(store)} is a symbolic link (to {target!r}); "
            "give the real path instead, so that overwrite can never follow it elsewhere"
        )


def is_output_root(location):
    """Whether the local directory or store ``location`` is a tileblot output's root group."""
    try:  # not open_root: a symbolic link on the way is the user's, not an output of ours
        return tileblot_group(sync(make_store_path(location, mode="r"))) is not None
    except Exception:  # not a group zarr can read (or not readable): not an output either
        return False


def open_root(store, mode="a"):
    """The store and path of the output group, as a ``zarr.storage.StorePath``.

    Opened to write (any ``mode`` but ``"r"``), a local store may not be a
    symbolic link: an overwrite must never follow one elsewhere. Read
    through one (``info``, ``export``, ``verify_output``), it is harmless.
    """
    if mode != "r":
        check_not_symlink(store)
    if is_local_path(store):
        # Absolute (file:// stripped): the workers of a cluster need not share the cwd.
        store = os.fspath(_urls.local_path(store))
    return sync(make_store_path(store, mode=mode))


def _keys(root):
    return _verify.list_keys(root, "")


def store_exists(store):
    """Whether ``store`` already holds anything (a non-empty path, or any key)."""
    if isinstance(store, zarr.storage.LocalStore):
        store = store.root
    if is_local_path(store):
        path = _urls.local_path(store)
        return path.exists() and (not path.is_dir() or any(path.iterdir()))
    try:
        return bool(_keys(open_root(store, mode="r")))
    except FileNotFoundError:
        return False


def tileblot_group(root):
    """The output group at ``root`` if it is a tileblot output, else None."""
    try:
        group = zarr.open_group(store=root.store, path=root.path, mode="r")
    except _NOT_FOUND:
        return None
    return group if ATTR in group.attrs else None


def check_arrays(group, store, record):
    """``ValueError`` for a tileblot output without its image or completion records, or whose
    arrays are not the shape, tiles and dtype its ``record`` says (metadata edited by hand)."""
    missing, unreadable = [], []
    for name in (IMAGE, DONE):
        try:
            group[name]
        except KeyError:
            missing.append(name)
        except ValueError as exc:  # metadata that does not parse (JSON, zarr's checks)
            unreadable.append(f"{name} ({exc})")
    if missing:
        raise ValueError(
            f"output store {store_label(store)} is damaged: its {' and '.join(missing)} "
            f"array{'s are' if len(missing) > 1 else ' is'} missing (an overwrite killed while "
            f"it deleted the old image, or files removed by hand); {REMEDY}"
        )
    if unreadable:
        raise ValueError(f"output store {store_label(store)} is damaged: the metadata of "
                         f"{' and '.join(unreadable)} cannot be read; {REMEDY}")
    image, done = group[IMAGE], group[DONE]
    shape, chunks = (tuple(int(n) for n in record[key]) for key in ("shape", "chunks"))
    # One record per tile, each its own chunk, of integers (int64; uint8 before the counts).
    if ((tuple(image.shape), tuple(image.chunks), image.dtype) != (shape, chunks, np.float32)
            or (tuple(done.shape), tuple(done.chunks)) != (grid_shape(shape, chunks), (1, 1))
            or done.dtype.kind not in "iu"):
        raise ValueError(
            f"output store {store_label(store)} is damaged: its image array is "
            f"{_size(image.shape)} in {_size(image.chunks)} chunks of {image.dtype} and its "
            f"{DONE} {_size(done.shape)} in {_size(done.chunks)} chunks of {done.dtype}, where "
            f"its record says {_size(shape)} in {_size(chunks)} tiles of float32, one record "
            f"per tile (metadata edited by hand?); {REMEDY}")
    return group


def _size(shape):
    return " x ".join(str(n) for n in shape)


def _damaged_root(root):
    """Whether ``root``'s group metadata cannot be read while tileblot's ``image`` can.

    Only then is a store without tileblot's record at its root still tileblot's: a
    group that reads fine without the record is someone else's, even if an ``image``
    copied from an output (with its attributes) sits in it.
    """
    try:
        zarr.open_group(store=root.store, path=root.path, mode="r")
        return False
    except Exception:  # missing, or JSON / metadata that does not parse
        pass
    try:
        image = zarr.open_array(store=root.store, path=_join(root, IMAGE), mode="r")
    except Exception:  # zarr raises several types for "no array here"
        return False
    return ATTR in image.attrs


def not_an_output(root, store, prefix=""):
    """The ``ValueError`` for a store with no tileblot group: damaged if its image is ours."""
    if root is not None and _damaged_root(root):
        return ValueError(f"{prefix}output store {store_label(store)} is damaged: its root "
                          f"metadata (zarr.json) cannot be read; {REMEDY}")
    return ValueError(f"{prefix}{store_label(store)} is not a tileblot output store")


def holds_output(root):
    """Whether ``root`` holds a tileblot output with a job's work in it (:func:`started_only`)."""
    return tileblot_group(root) is not None and not started_only(root)


def started_only(root):
    """Whether ``root`` holds nothing but what a job killed while it started leaves.

    Its lock (or the lock's empty folder), perhaps its group and the image's
    metadata, but no completion records, without which no tile is ever
    written: nothing to keep, so a job starts it afresh, resumed or not.
    """
    if tileblot_group(root) is not None:
        # Most stores have their completion records' array: answered without listing their
        # tiles (as many keys as tiles: on an object store, a request per thousand).
        if sync(root.store.exists(_join(root, f"{DONE}/zarr.json"))):
            return False
        return not (_verify.list_keys(root, f"{DONE}/") or _verify.list_keys(root, f"{IMAGE}/c/"))
    return _lock_left_only(root)


def _lock_left_only(root):
    """Whether, of tileblot's, ``root`` holds its lock (or the lock's empty folder) only.

    What a job leaves that was stopped after it took the lock and before it created its
    group, or as an overwrite had deleted the old group and not yet made the new one.
    Other files may sit beside it: an overwrite keeps them, and a job started afresh
    writes none of them. Not with zarr metadata at the root (another's group, which a job
    would write over), nor with anything of an image or its records.
    """
    keys = _keys(root)
    # zarr.json: a v3 group or array; .zgroup, .zarray: v2's (zarr would open it, and fail).
    if any(k in ("zarr.json", ".zgroup", ".zarray") or k.startswith((f"{IMAGE}/", f"{DONE}/"))
           for k in keys):
        return False
    if any(k.startswith(f"{_lock.LOCK}/") for k in keys):
        return True
    folder = getattr(root.store, "root", None)  # a LocalStore's: the lock's empty folder
    return folder is not None and os.path.isdir(os.path.join(folder, root.path, _lock.LOCK))


def is_tileblot_output(root):
    # A root whose metadata was damaged is still tileblot's if its image is; one that a job
    # stopped as it started left holds tileblot's lock.
    return tileblot_group(root) is not None or _damaged_root(root) or _lock_left_only(root)


# --------------------------------------------------------------------------- create, resume


def _open_arrays(root, mode):
    group = zarr.open_group(store=root.store, path=root.path, mode=mode)
    # open_array ignores its config argument (zarr 3.1): with_config sets it.
    image = zarr.open_array(store=root.store, path=_join(root, IMAGE),
                            mode=mode).with_config(_IMAGE_CONFIG)
    return group, image, group[DONE]


def _join(root, name):
    return f"{root.path}/{name}" if root.path else name


def _remove_tileblot_nodes(root):
    """Delete what tileblot wrote (not the lock, held by now by this job)."""
    for name in (IMAGE, DONE):
        sync(root.store.delete_dir(_join(root, name)))
    sync(root.store.delete(_join(root, "zarr.json")))


def take_output(store, owner, *, break_lock=False):
    """Take the store's lock for ``owner`` (a :func:`._lock.new_owner` record); returns its root.

    ``ValueError`` if another live job holds it, unless ``break_lock``.
    """
    root = open_root(store)
    try:
        _lock.acquire(root, owner, label=store_label(store), break_lock=break_lock)
    except BaseException:
        # Interrupted once the key was written (the caller has no root to release yet), a
        # lock would be left that a resume reads as another job's.
        _lock.release(root, owner["job"])
        raise
    return root


def create_output(root, shape, chunks, fillval, record, job, *, compressors=None):
    """Create the output group in a store ``job`` holds; returns ``(image, tiles_done)``.

    ``record`` is the job plan's record (:meth:`BlotPlan.record`); the store
    keeps it with tileblot's version. Deletes tileblot's own nodes first (an
    overwrite), and nothing else.
    ``ValueError`` if the job no longer holds the store once it is created
    (another job started on it in the same instant). ``compressors`` is the
    image's codec (see :func:`tileblot._io._codecs.output_compressors`;
    tileblot's default if ``None``).
    """
    attrs = json_safe({"version": __version__, **record})  # valid JSON: no bare NaN
    _remove_tileblot_nodes(root)
    group = zarr.open_group(store=root.store, path=root.path, mode="a", attributes={ATTR: attrs})
    image = group.create_array(
        IMAGE, shape=shape, chunks=chunks, dtype=np.float32, fill_value=np.float32(fillval),
        attributes={ATTR: attrs}, compressors=output_compressors(compressors),
        config=_IMAGE_CONFIG,
    )
    done = group.create_array(DONE, shape=grid_shape(shape, chunks), chunks=(1, 1),
                              dtype=_coverage.RECORD_DTYPE, fill_value=0,
                              compressors=output_compressors("zstd"))
    if not _lock.owns(root, job):
        raise ValueError(
            f"output store {root} was taken by another job while this one was creating it; "
            "not writing to it"
        )
    return image, done


def grid_shape(shape, chunks):
    """Tiles along each axis."""
    return tuple(-(-n // c) for n, c in zip(shape, chunks, strict=True))


def open_for_resume(root, *, verify=False):
    """Open a store this job holds to resume it; returns ``(image, tiles_done, todo)``.

    ``todo`` is the boolean grid of tiles to compute: those without a record
    *or* without an image chunk (one listing), and with ``verify`` also those
    whose chunk does not decode (their records are deleted first).
    """
    _, image, done = _open_arrays(root, "r+")
    state = _verify.scan(root, done.shape)
    todo = ~state.done
    if verify:
        corrupt = _verify.corrupt_tiles(image, done, state)
        _verify.forget_tiles(root, corrupt)
        todo |= corrupt
    return image, done, todo


def held_record(root):
    """The record a store this job holds keeps now: what a resumed job's final check (see
    :func:`finish`) compares with, since the job that started the store may have been another
    tileblot (another version, another way of recording the WCS or the unit)."""
    group, _, _ = _open_arrays(root, "r")
    return read_record(group, root)


def finish(root, record, job, *, label, onimage=None):
    """End a job: check from the store itself that it is complete, then release the lock.

    ``RuntimeError`` if the job lost the store, if the store's record or
    image metadata is no longer this job's (a simultaneous start on an object
    store rewrote it), or if any tile is not done. Returns the store's
    coverage (see :func:`tileblot._io._coverage.coverage`), which it records:
    ``onimage`` is the count of a job whose tasks wrote every tile (``None``:
    read the tiles' counts).
    """
    try:
        _verify.check_complete(root, grid_shape(record["shape"], record["chunks"]), job,
                               label=label)
        group = tileblot_group(root)
        image = None if group is None else group.get(IMAGE)
        if (
            image is None
            # A resumed job's record is the store's own (held_record), its version included.
            or not same_record(dict(group.attrs[ATTR]), {"version": __version__, **record})
            or list(image.shape) != list(record["shape"])
            or list(image.chunks) != list(record["chunks"])
        ):
            raise RuntimeError(
                f"output store {label}: its record or image metadata was rewritten while this "
                "job ran (by a job that took it over, or by hand); this job's tiles cannot be "
                "trusted. If another job holds it now, leave it to that job (tileblot info "
                "says); otherwise rerun with overwrite=True (--overwrite)"
            )
        return _coverage.finish(root, record, onimage)
    finally:
        _lock.release(root, job)


def release(root, job):
    """Release ``job``'s lock on ``root`` if it still holds it (a failed or interrupted job)."""
    _lock.release(root, job)


def describe(store, *, verify=False):
    """What an output store holds, for ``tileblot info``: a dict.

    The completion records are cross-checked against one listing of the
    store: ``tiles_done`` counts tiles with a record *and* an image chunk;
    ``tiles_missing_chunk`` lists recorded tiles whose chunk is gone. With
    ``verify=True`` every chunk is also decoded, and ``tiles_corrupt`` lists
    those that fail (see :func:`tileblot.verify_output`).
    """
    root = open_root(store, mode="r") if store_exists(store) else None
    group = None if root is None else tileblot_group(root)
    started = root is not None and started_only(root)  # a listing of the store, once
    if group is None and not started:
        raise not_an_output(root, store)
    if started:
        raise ValueError(f"output store {store_label(store)} holds no tile: its job was stopped "
                         "as it started (or its arrays were removed); a blot into it starts "
                         "the job afresh")
    record = read_record(group, store)
    image, done = check_arrays(group, store, record)[IMAGE], group[DONE]
    state = _verify.scan(root, done.shape)
    info = {
        **record,
        "store": store_label(store),
        "shape": tuple(image.shape),
        "chunks": tuple(image.chunks),
        "dtype": str(image.dtype),
        "tiles": int(state.done.size),
        "tiles_done": int(state.done.sum()),
        "tiles_missing_chunk": _verify.tile_list(state.recorded & ~state.chunk),
        "coverage": _coverage.coverage(group, state.done, image.shape, image.chunks),
        "lock": _lock.read_lock(root),
    }
    if verify:
        info["tiles_corrupt"] = _verify.tile_list(_verify.corrupt_tiles(image, done, state))
        info["tiles_done"] -= len(info["tiles_corrupt"])
    info["complete"] = info["tiles_done"] == info["tiles"]
    return info


def recorded_tile_size(store):
    """The tile size ``(cy, cx)`` an existing output records, or ``None``."""
    if not store_exists(store):
        return None
    group = tileblot_group(open_root(store, mode="r"))
    if group is None:
        return None
    return tuple(read_record(group, store)["chunks"])

