"""How an input is recognised: where it lives, what it is, and whether it changed.

An output store records the identity of its data and pixmap, so that resume
can refuse inputs other than the ones the job started with. An identity is a
JSON-ready dict with four parts:

``kind``
    What sort of input it is: ``"zarr"``, ``"fits"``, ``"file"`` (a raw or
    ``.npy`` file), ``"dask"``, ``"array"`` (numpy, in memory), or the class
    name of another array-like.
``location``
    The input's resolved absolute location, as a URL (``file:///abs/path``,
    ``s3://bucket/key``), or ``None`` for an object held in memory. It does not
    depend on how the path was spelled (relative, absolute, through ``..``,
    ``file://``) or on the mode the input was opened with.
``metadata``
    What the input is: shape, dtype, and for zarr its chunks and codecs, for
    FITS its extension, for a raw file its offset and order (and, for a
    strided view of it, its strides).
``stamp``
    A cheap change stamp: for files, their size and modification time; for a
    zarr array, a digest of the names, sizes and modification times of its
    metadata and chunk files (one listing, no chunk is read); for an array in
    memory, a digest of its content (hashed once per job, see :func:`content_hash`).

What this can and cannot detect is documented in ``docs/guarantees.rst``:
a chunk rewritten with the same size within the file system's timestamp
resolution, an object-store chunk rewritten with the same size within the
store's (its ETag is read only where it reports no modification time), or
any chunk of a listing without versions (HTTP) goes unnoticed (the process's
chunk cache is keyed by more: :func:`input_identity`); so
do changes to a dask array's inputs (a dask array is recognised by its graph name only) and
to generic array-likes (h5py, ...) beyond their shape and dtype.
"""

import hashlib
import os
import uuid
from pathlib import Path

import numpy as np

from . import _urls
from ._files import FitsImage, MemmapFile, normal_extension

# The fields a user reads in a refusal, in the order they are compared.
_FIELDS = ("kind", "location", "metadata", "stamp")


def file_location(path):
    """``file://`` URL of a local path, resolved (symlinks, ``..``) and absolute."""
    return Path(os.fspath(path)).expanduser().resolve().as_uri()


def _file_stamp(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _version(info):
    """An object's version from an fsspec listing: its modification time, else its ETag,
    else its creation time (fsspec's memory filesystem, where a rewrite makes a new object,
    reports nothing else); ``""`` if it reports none of these."""
    for key in ("mtime", "LastModified", "ETag", "etag", "created"):
        if info.get(key):
            return str(info[key])
    return ""


def _object_stamp(url, storage_options):
    """Size and version (:func:`_version`) of one object behind an fsspec URL."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, **storage_options)
    info = fs.info(path)
    return {"size": info.get("size"), "version": _version(info)}


def _digest(items):
    digest = hashlib.sha256()
    for item in items:
        digest.update(repr(item).encode())
    return digest.hexdigest()[:32]


def _local_files(root):
    """``(relative name, os.stat_result)`` of every file under ``root`` (one walk, no reads)."""
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed while we walk: the stamp differs anyway
                continue
            yield os.path.relpath(path, root), stat


def _local_tree(root):
    """``(stamp, changes)`` of every file under ``root``, from one walk.

    The stamp digests each file's relative name, size and mtime; ``changes``
    its inode number and change time (see :func:`input_identity`).
    """
    files = sorted(_local_files(root), key=lambda item: item[0])
    entries = [(name, stat.st_size, stat.st_mtime_ns) for name, stat in files]
    stamp = {"files": len(entries), "bytes": sum(e[1] for e in entries),
             "digest": _digest(entries)}
    return stamp, _digest((name, stat.st_ino, stat.st_ctime_ns) for name, stat in files)[:16]


def _fsspec_tree(fs, path):
    """``(stamp, changes)`` of a listing on an fsspec filesystem, from one listing.

    The stamp digests names, sizes and versions (:func:`_version`); ``changes``
    each object's ETag (or creation time). Where an object has no version (an
    HTTP server's listing gives neither times nor sizes), a rewrite cannot be
    seen: ``changes`` is then new at every call, so that no job is served
    chunks another job decoded (identifying the array by its content would read
    all of it).
    """
    listing = sorted(fs.find(path, detail=True).items())
    entries = [(name, info.get("size"), _version(info)) for name, info in listing]
    stamp = {"files": len(entries), "bytes": sum(e[1] or 0 for e in entries),
             "digest": _digest(entries)}
    if not all(version for *_, version in entries):
        return stamp, uuid.uuid4().hex[:16]
    tags = ((name, str(info.get("ETag") or info.get("etag") or info.get("created") or ""))
            for name, info in listing)
    return stamp, _digest(tags)[:16]


def _local_root(array):
    """The resolved folder of a zarr array in a local directory, else ``None``: a
    ``LocalStore``'s, or an fsspec store's on the local filesystem (a ``file://`` URL)."""
    import zarr

    store = array.store
    if isinstance(store, zarr.storage.LocalStore):
        root = Path(store.root)
    elif isinstance(store, zarr.storage.FsspecStore):
        from fsspec.implementations.local import LocalFileSystem

        if not isinstance(_urls.sync_filesystem(store.fs), LocalFileSystem):
            return None
        root = Path(store.path)
    else:
        return None
    return (root / array.path if array.path else root).resolve()


def _fsspec_path(array):
    """``(synchronous filesystem, path)`` of a zarr array in an fsspec store, else ``None``."""
    import zarr

    store = array.store
    if not isinstance(store, zarr.storage.FsspecStore):
        return None
    return (_urls.sync_filesystem(store.fs),
            f"{store.path.rstrip('/')}/{array.path}".rstrip("/"))


def _zarr_identity(array):
    """``(identity, changes)`` of a zarr array (see :func:`input_identity`)."""
    metadata = array.metadata.to_dict()
    metadata = {
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "chunks": list(array.chunks),
        "codecs": _jsonable(metadata.get("codecs", metadata.get("compressor"))),
    }
    root = _local_root(array)
    if root is not None:
        stamp, changes = _local_tree(root)
        return {"kind": "zarr", "location": root.as_uri(), "metadata": metadata,
                "stamp": stamp}, changes
    remote = _fsspec_path(array)
    if remote is not None:
        fs, path = remote
        stamp, changes = _fsspec_tree(fs, path)
        return {"kind": "zarr", "location": fs.unstrip_protocol(path), "metadata": metadata,
                "stamp": stamp}, changes
    # A store in memory (or one we cannot list cheaply): recognise it by content.
    return {"kind": "zarr", "location": None, "metadata": metadata,
            "stamp": {"content": content_hash(array[...])}}, None


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


#: Prefix of a content digest: the hash that made it, so that a store recorded by a
#: tileblot that hashed otherwise is told apart from a changed input.
CONTENT_HASH = "xxh3_128"
#: Bytes of a non-contiguous array copied at a time to be hashed.
_HASH_BLOCK = 64 << 20


def content_hash(array):
    """A digest of an in-memory array's values, dtype and shape: ``"xxh3_128:<hex>"``.

    One pass over the array: xxh3 runs at memory speed, twice as fast as the
    xxh64 of dask's tokenizer (a 4096 x 4096 float64 pixmap: 9 ms against 20,
    measured on the development machine). The bytes are hashed in C order,
    those of a non-contiguous array through copies of a few rows at a time
    (about 64 MB, or one row if a row is larger): equal values give equal
    digests in any memory layout, and hashing never holds a second copy of
    the array.
    """
    import xxhash

    array = np.asarray(array)
    digest = xxhash.xxh3_128(f"{array.dtype.str}{array.shape}".encode())
    if array.flags.c_contiguous:
        digest.update(array.reshape(-1).view(np.uint8))
    else:
        # A streaming hash does not see where one update ends: the blocks hash as
        # the whole array in C order would.
        rows = max(1, _HASH_BLOCK // max(1, array[0].nbytes))
        for start in range(0, array.shape[0], rows):
            block = np.ascontiguousarray(array[start : start + rows])
            digest.update(block.reshape(-1).view(np.uint8))
    return f"{CONTENT_HASH}:{digest.hexdigest()}"


def _hash_of(stamp):
    """The hash that made a stamp's content digest, or ``None`` for a stamp without one."""
    content = stamp.get("content") if isinstance(stamp, dict) else None
    if not isinstance(content, str):
        return None
    return content.split(":", 1)[0] if ":" in content else "dask tokenize"


def identify(source):
    """The identity (a JSON-ready dict) of a source as returned by ``as_source``.

    Parameters
    ----------
    source : numpy.ndarray, zarr.Array, dask.array.Array, MemmapFile, FitsImage or array-like

    Returns
    -------
    dict
        ``{"kind", "location", "metadata", "stamp"}``, see the module docstring.
    """
    import dask.array as da
    import zarr

    shape = [int(n) for n in source.shape]
    dtype = str(np.dtype(source.dtype))
    if isinstance(source, MemmapFile):
        return {"kind": "file", "location": file_location(source.filename),
                "metadata": {"shape": shape, "dtype": dtype, "offset": source.offset,
                             "order": source.order,
                             # A strided view of the file (never recorded before 0.2).
                             **({} if source.strides is None else
                                {"strides": list(source.strides), "first": source.first})},
                "stamp": _file_stamp(source.filename)}
    if isinstance(source, FitsImage):
        local = _urls.is_local(source.path)
        return {"kind": "fits",
                "location": file_location(source.path) if local else source.path,
                "metadata": {"shape": shape, "dtype": dtype, "extension": str(source.ext)},
                "stamp": (_file_stamp(source.path) if local
                          else _object_stamp(source.path, source.storage_options))}
    if isinstance(source, zarr.Array):
        return _zarr_identity(source)[0]
    if isinstance(source, da.Array):
        # A dask array is its graph: equal names mean equal inputs (tokenize is
        # deterministic), and nothing cheaper can see changes to what it reads.
        return {"kind": "dask", "location": None,
                "metadata": {"shape": shape, "dtype": dtype,
                             "chunks": [list(c) for c in source.chunks]},
                "stamp": {"name": source.name}}
    if isinstance(source, np.ndarray):
        return {"kind": "array", "location": None, "metadata": {"shape": shape, "dtype": dtype},
                "stamp": {"content": content_hash(source)}}
    # h5py datasets and other array-likes: where they say they live, if they do.
    filename = getattr(getattr(source, "file", None), "filename", None)
    location = file_location(filename) if isinstance(filename, str) else None
    return {"kind": type(source).__name__, "location": location,
            "metadata": {"shape": shape, "dtype": dtype, "name": str(getattr(source, "name", ""))},
            "stamp": _file_stamp(filename) if location else None}


def input_identity(source):
    """``(identity, changes)``: :func:`identify`'s identity, and for a zarr array in a directory
    or an object store, a digest of what tells a rewritten file from the one the stamp saw,
    from the same listing (else ``None``).

    That is each file's inode number and change time, or each object's ETag.
    The stamp's sizes and modification times cannot see a mosaic replaced by
    another of the same sizes whose files kept their times (``cp -p``,
    ``rsync -a``), nor a chunk rewritten on S3 within the second its
    modification time counts. The process's chunk cache keys a mosaic by both
    (``_api/_plan.py``), so that it never serves what it decoded before; the
    changes are not part of the identity (a store moved or restored from a
    backup is the same input to a resume).
    """
    import zarr

    if isinstance(source, zarr.Array):
        return _zarr_identity(source)
    return identify(source), None


def token_of(identity):
    """A short deterministic string for graph names: a digest of the identity."""
    return _digest(sorted((k, repr(identity.get(k))) for k in _FIELDS))[:24]


def input_token(identity):
    """The name an input's tasks are given (graph keys, the chunk cache's key).

    :func:`token_of` the identity, unless the identity has no stamp (an
    array-like that says nowhere where it lives: a FITS ``section``, an
    h5py dataset in memory): two such inputs of one shape and dtype have
    equal identities, and computed together, their tasks would share keys
    and one input's tiles stand for the other's. Such an input's token is
    made unique to this call instead (its record, all a resume can check,
    stays as it is).
    """
    token = token_of(identity)
    if identity.get("stamp") is None:
        token = _digest([token, uuid.uuid4().hex])[:24]
    return token


def _describe_field(what, field, recorded, current):
    if field == "stamp":
        then, now = _hash_of(recorded), _hash_of(current)
        if then and now and then != now:
            return (f"{what} was recorded by another tileblot version, which hashed arrays in "
                    f"memory with {then} (this one uses {now}): resume with that version, or "
                    f"start again with overwrite")
        if isinstance(recorded, dict) and isinstance(current, dict) and (
                set(recorded) == set(current) == {"name"}):
            # A dask array is known by its graph's name alone: "modified" would blame the
            # user's files for what may be another way of building the same graph.
            return (f"{what} is another dask computation: its graph was named "
                    f"{recorded['name']!r}, it is {current['name']!r} now. A dask array is "
                    "known by that name alone, which changes with its inputs, with how it is "
                    "built (its chunks), and between tileblot versions for a WCS pixmap")
        return f"{what} was modified since the job started"
    if field == "location":
        return (f"{what} is another input: the job started with {recorded or 'an array in memory'}"
                f", this run has {current or 'an array in memory'}")
    if field == "kind":
        return (f"{what} is another kind of input: the job started with {recorded}, "
                f"this run has {current}")
    changed = sorted(
        k for k in set(recorded or {}) | set(current or {})
        if (recorded or {}).get(k) != (current or {}).get(k)
    )
    details = "; ".join(
        f"{k} {(recorded or {}).get(k)!r} then, {(current or {}).get(k)!r} now" for k in changed
    )
    return f"{what} differs from the one the job started with: {details}"


def difference(what, recorded, current):
    """A sentence naming how ``current`` differs from ``recorded`` (identities), or ``None``.

    Parameters
    ----------
    what : str
        The input's name in the sentence (``"data"``, ``"pixmap"``).
    recorded, current : dict
        Identities as made by :func:`identify` (``recorded`` read back from a store).
    """
    recorded = recorded or {}
    compared = _fits_spelled_now(recorded)
    for field in _FIELDS:
        if _normal(compared.get(field)) != _normal(current.get(field)):
            return _describe_field(what, field, recorded.get(field), current.get(field))
    return None


def _fits_spelled_now(identity):
    """``identity`` with a FITS extension's name as this version records it (without case or
    spaces): one recorded before, as typed (``sci``), is the same input as ``SCI`` now."""
    metadata = identity.get("metadata")
    if identity.get("kind") != "fits" or not isinstance(metadata, dict):
        return identity
    extension = metadata.get("extension")
    if not isinstance(extension, str) or extension == "None":  # None: the first image
        return identity
    return {**identity, "metadata": {**metadata, "extension": normal_extension(extension)}}


def _normal(value):
    # JSON round trips turn tuples into lists: compare in that form.
    return _jsonable(value)
