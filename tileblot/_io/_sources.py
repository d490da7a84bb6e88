"""Input sources: what a data or pixmap argument can be, and how a task reads it.

A source is anything with ``shape``, ``dtype`` and numpy-style slicing that
survives a trip to a dask worker. numpy arrays and ``zarr.Array`` qualify as
they are. Files are wrapped in small objects that pickle as their path and
reopen on the worker (:mod:`tileblot._io._files`).
"""

import math
import os
import socket
import threading
import time

import dask.array as da
import numpy as np
import zarr

from .._engine._quiet import warnings_ignored
from .._engine._validation import sequence_array
from . import _urls
from ._files import FitsImage, MemmapFile
from ._fits import is_fits_name, split_fits_spec
from ._layout import ATTR, IMAGE


def _open_fits(text, local, options, what):
    """A :class:`FitsImage` of ``file.fits[EXT]``, or a ``ValueError`` naming the file."""
    file, ext = split_fits_spec(text)
    if local:
        found = _urls.local_path(file).is_file()
        file = _urls.local_path(file)
    else:
        found = _urls.exists(file, storage_options=options, what=what)
    if not found:
        raise ValueError(f"{what}: no such FITS file {split_fits_spec(text)[0]!r}")
    try:
        return FitsImage(file, ext, options)
    except OSError as exc:
        if exc.errno is not None:  # the system's (permissions, ...), not the file's format
            raise
        problem = str(exc)  # astropy: "No SIMPLE card found", an empty or truncated file
    raise ValueError(f"{what}: {text!r} is not a FITS file astropy can read ({problem})")


def open_path(path, *, what, storage_options=None):
    """Open a location as a source: ``.npy``, FITS (``file.fits[ext]``) or a zarr array.

    ``path`` is a local path, a ``file://`` URL or any fsspec URL (``s3://``, ``gs://``,
    ``memory://``, ...) opened with ``storage_options``. Local paths are made absolute,
    so a source means the same file on every worker.
    """
    text = os.fspath(path)
    local = _urls.is_local(text)
    options = {} if local else _urls.check_storage_options(storage_options)
    if not local:
        _urls.probe(text, storage_options=options, what=what)
    if is_fits_name(text):
        return _open_fits(text, local, options, what)
    location = os.fspath(_urls.local_path(text)) if local else text
    if local and not os.path.exists(location):
        raise ValueError(f"{what}: no such file or zarr store {text!r}")
    if text.endswith(".npy"):
        if not local:
            raise ValueError(
                f"{what}: a .npy file must be local (it is memory-mapped); store {text!r} "
                "as a zarr array to read it from an object store"
            )
        if not os.path.isfile(location):
            raise ValueError(f"{what}: {text!r} is not a .npy file (a folder)")
        with open(location, "rb") as file:
            if file.read(6) != b"\x93NUMPY":  # numpy would take it for a pickle and say so
                raise ValueError(f"{what}: {text!r} is not a .npy file (it does not start as "
                                 "numpy writes one)")
        try:
            return MemmapFile.from_npy(location)
        except ValueError as exc:  # a .npy file cut short, or objects (not mappable)
            raise ValueError(f"{what}: {text!r} is not a .npy array of numbers that can be "
                             f"memory-mapped ({exc})") from None
    store = _urls.zarr_store(location, storage_options=options, read_only=True, what=what)
    try:
        array = zarr.open_array(store=store, mode="r")
    except Exception as exc:  # zarr raises several types for "not an array"
        problem = exc
    else:
        return _output_image(array, text, what, location, options)
    if not local and not _urls.exists(text, storage_options=options, what=what):
        raise ValueError(f"{what}: no such zarr store {text!r}")
    return _array_in_group(store, location if local else text, what, problem)


def _check_finished(output, text, what):
    """``ValueError`` unless the tileblot output store ``output`` is complete and not in use.

    Blotted again, an unfinished output reads its missing tiles as fill values.
    """
    from ._lock import describe_owner, lock_is_stale
    from ._store import describe

    info = describe(output)
    if not info["complete"]:
        raise ValueError(
            f"{what}: {text!r} is an unfinished tileblot output ({info['tiles_done']} of "
            f"{info['tiles']} tiles): finish it with resume=True (--resume) before blotting "
            "from it"
        )
    owner = info.get("lock")
    if owner and not lock_is_stale(owner):
        raise ValueError(
            f"{what}: {text!r} is being written by {describe_owner(owner)}; if that job is "
            "gone (killed on another node), tileblot.break_lock(store) removes its lock"
        )


def _output_image(array, text, what, location=None, options=None):
    """``array``, checked if it is a tileblot output's ``image`` (an output blotted again).

    Found by the record tileblot copies onto ``image``: at the path ``image`` of
    its store, or opened at ``OUT.zarr/image`` itself (``location``).
    """
    from ._store import is_output_root

    if "tileblot" not in array.attrs:
        return array
    # Only in an output's group: an image copied elsewhere with its attributes is a mosaic.
    if array.path == IMAGE and is_output_root(array.store):
        _check_finished(array.store, text, what)
    elif not array.path and location is not None:
        parent = (os.path.dirname(location.rstrip("/")) if _urls.is_local(location)
                  else location.rstrip("/").rsplit("/", 1)[0])
        parent = _urls.zarr_store(parent, storage_options=options, read_only=True, what=what)
        if is_output_root(parent):
            _check_finished(parent, text, what)
    return array


def _array_in_group(store, text, what, problem):
    """A tileblot output's ``image`` (an output blotted again); else say which array to name."""
    try:
        group = zarr.open_group(store=store, mode="r")
    except Exception:  # not a group either
        raise ValueError(f"{what}: {text!r} is not a zarr array ({problem})") from None
    if ATTR in group.attrs and IMAGE in group:
        _check_finished(store, text, what)
        return group[IMAGE]
    with warnings_ignored():  # zarr warns of files it does not know (a job's lock)
        arrays = sorted(name for name, _ in group.arrays())
    hint = f": name one of its arrays, e.g. {text.rstrip('/')}/{arrays[0]}" if arrays else ""
    raise ValueError(f"{what}: {text!r} is a zarr group, not an array{hint}")


def as_source(obj, *, what, storage_options=None):
    """Normalise a user's argument into a source (or a dask array).

    ``storage_options`` are used when ``obj`` is a URL (see ``_urls.check_options_apply``).
    """
    if _urls.is_location(obj):
        return open_path(obj, what=what, storage_options=storage_options)
    if isinstance(obj, np.memmap) and obj.filename is not None:
        source = MemmapFile.from_memmap(obj)
        # Else its values are read from memory, as any array's.
        return source if source is not None else obj.view(np.ndarray)
    if isinstance(obj, zarr.Array):
        return _output_image(obj, repr(obj), what)
    if isinstance(obj, (np.ndarray, da.Array)):
        return obj
    if all(hasattr(obj, a) for a in ("shape", "dtype", "__getitem__")):
        return obj
    if isinstance(obj, (list, tuple)):
        return sequence_array(what, obj)
    raise TypeError(
        f"{what} must be an array (numpy, zarr, dask, h5py, ...) or a path, "
        f"got {type(obj).__name__}"
    )


#: Seconds a process trusts that it found an input before it looks again: a
#: long-lived worker may lose a mount between jobs on the same (unchanged) input.
FOUND_FOR = 60.0

_FOUND = {}
_FOUND_LOCK = threading.Lock()


def check_found(array, key):
    """Raise ``ValueError`` unless this process finds the zarr ``array`` in its store.

    zarr reads a chunk that is missing from its store as the array's fill
    value (a writer leaves out chunks that hold only that value). So a worker
    that does not see the store the client opened (a local path not shared with
    its node, another process's ``memory://`` filesystem) would blot zeros and
    report success. The array's metadata is looked up before this process first
    reads the input ``key`` (its identity token), and again after
    :data:`FOUND_FOR` seconds; a missing one is an error naming the input, the
    process and its host.
    """
    if time.monotonic() - _FOUND.get(key, -math.inf) < FOUND_FOR:
        return
    try:
        zarr.open_array(store=array.store, path=array.path, mode="r")
        found = True
    except (zarr.errors.NodeNotFoundError, FileNotFoundError):
        found = False
    if not found:
        # Raised outside the handler: a scheduler that pickles the error back to the
        # client would also pickle zarr's exception as its context, and zarr's do not
        # unpickle.
        from ._locations import input_location

        raise ValueError(
            f"the input zarr array {input_location(array)} is not there for this process "
            f"(pid {os.getpid()} on {socket.gethostname()}): every worker must see the "
            "inputs where the client does (a shared filesystem or an object store), and "
            "they must stay there until the job ends"
        )
    with _FOUND_LOCK:
        _FOUND[key] = time.monotonic()


def pixmap_to_dask(source, blocks, *, name):
    """A pixmap source as a dask array chunked ``blocks + ((2,),)``.

    A dask array is rechunked only if its chunks differ; anything else is
    wrapped once, under ``name`` (the caller's identity token: nothing is
    hashed here), each task slicing its tile straight from the source.
    """
    target = (*blocks, (2,))
    if isinstance(source, da.Array):
        return source if source.chunks == target else source.rechunk(target)
    if isinstance(source, np.ndarray):
        # dask copies any array with a .copy() method (against later
        # mutation): 270 MB and over a second for a 4096^2 pixmap. The data
        # is not copied either; tasks slice the caller's array.
        source = _Uncopied(source)
    elif isinstance(source, zarr.Array):
        source = _Found(source, name)
    elif not hasattr(source, "ndim"):  # a bare array-like: dask needs ndim
        source = _Uncopied(source)
    return da.from_array(source, chunks=target, name=name, inline_array=False)


class _Uncopied:
    """An array-like that :func:`dask.array.from_array` slices as it is: an array in memory
    without copying it first, or any sliceable object with the ``ndim`` dask needs."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, len(array.shape)

    def __getitem__(self, key):
        return self.array[key]


class _Found(_Uncopied):
    """A zarr array whose slices are read only once :func:`check_found` finds it."""

    def __init__(self, array, token):
        super().__init__(array)
        self.token = token

    def __getitem__(self, key):
        check_found(self.array, self.token)
        return super().__getitem__(key)


def native_chunks(source):
    """The source's own 2-D chunking, if it has one (dask or zarr), else ``None``.

    A dask array's empty blocks (a boolean selection's, once its chunk sizes are
    computed) are left out: no tile is empty.
    """
    if isinstance(source, da.Array):
        return tuple(tuple(size for size in axis if size) for axis in source.chunks[:2])
    if isinstance(source, zarr.Array):
        return tuple(source.chunks[:2])
    return None
