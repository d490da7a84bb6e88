"""Where stores and inputs live: resolved locations, to compare them however spelled.

A location is a string: ``file://`` and the real absolute path for local
files (symbolic links and ``..`` resolved), the fsspec URL for other
filesystems, and an identity for an in-memory store object. Two spellings of
one store give one location; an input whose location lies under the output's
is inside it. Whether a local output can be made where it is named is checked
here too, before any work.
"""

import os
import tempfile

import zarr

from .._engine._clients import current_client, scheduler_workers
from . import _urls
from ._fits import split_fits_spec
from ._identity import file_location


def is_local_path(store):
    """A local location: a path or a ``file://`` URL (``s3://...`` and store objects are not)."""
    return _urls.is_location(store) and _urls.is_local(store)


def store_label(store):
    """How a message names a store: as the user spelled it, or by its URL."""
    if isinstance(store, (str, os.PathLike)):
        return repr(os.fspath(store))
    if isinstance(store, zarr.storage.FsspecStore):
        return repr(store_location(store))
    if isinstance(store, zarr.storage.LocalStore):
        return f"{type(store).__name__}({str(store)!r})"
    return type(store).__name__


def _local_path(text):
    """A local path without a FITS extension suffix (``file.fits[1]`` -> ``file.fits``)."""
    return split_fits_spec(text)[0]


def store_location(store):
    """A resolved, comparable name for a store: a path spelled two ways gives one name."""
    if is_local_path(store):
        return file_location(_urls.local_path(_local_path(os.fspath(store))))
    if isinstance(store, str):
        from fsspec.core import url_to_fs

        fs, path = url_to_fs(store)
        return fs.unstrip_protocol(path).rstrip("/")
    if isinstance(store, zarr.storage.LocalStore):
        return file_location(store.root)
    if isinstance(store, zarr.storage.FsspecStore):
        fs = getattr(store.fs, "sync_fs", store.fs)  # no request: unstrip is string work
        return fs.unstrip_protocol(store.path).rstrip("/")
    if isinstance(store, zarr.storage.MemoryStore):
        return f"memory-store:{id(store._store_dict)}"
    return f"{type(store).__name__}:{id(store)}"


def input_location(item):
    """Where an input lives: from a path, a location URL, an identity dict or a source."""
    if isinstance(item, dict):  # an identity (see _identity): its resolved location
        return item.get("location")
    if isinstance(item, (str, os.PathLike)):
        return store_location(item)
    if isinstance(item, zarr.Array):
        base = store_location(item.store)
        return f"{base}/{item.path}" if item.path else base
    filename = getattr(item, "filename", None) or getattr(item, "path", None)
    if isinstance(filename, str):  # a file wrapper (.npy, FITS)
        return store_location(filename)
    return None


def check_distinct(stores):
    """``ValueError`` if two of ``stores`` are the same store however spelled, or nested.

    Stores are counted from 1, as the exposures of a job are in its messages.
    """
    seen = {}
    for k, store in enumerate(stores):
        location = store_location(store)
        if location in seen:
            raise ValueError(
                f"stores {seen[location] + 1} and {k + 1} are the same output "
                f"({store_label(stores[seen[location]])} and {store_label(store)}): one "
                "exposure would overwrite the other; give each exposure its own store"
            )
        for other, j in seen.items():
            inner, outer = (k, j) if within(location, other) else (j, k)
            if within(location, other) or within(other, location):
                raise ValueError(
                    f"store {inner + 1} ({store_label(stores[inner])}) lies inside store "
                    f"{outer + 1} ({store_label(stores[outer])}): overwriting the outer one "
                    "would delete it; give each exposure a store of its own, side by side"
                )
        seen[location] = k


def check_apart(store, inputs):
    """``ValueError`` if an input and the output store lie one inside the other.

    An input inside the output would be deleted by an overwrite. An output
    inside an input's directory would change that input's change stamp (see
    :mod:`tileblot._io._identity`) with its every tile, so a resume would be
    refused as if the input had been modified.

    ``inputs`` maps a name (``"data"``, ``"pixmap"``, ``"WCS file"``) to
    anything :func:`input_location` takes, a dask array (the zarr arrays its
    graph reads are its locations), or a list of these (``None`` for nothing).
    """
    out = store_location(store)
    for what, items in inputs.items():
        for location in _locations_of(items):
            _check_two_apart(store, out, what, location)


def _locations_of(items):
    items = items if isinstance(items, list) else [items]
    for item in items:
        if item is None:
            continue
        if hasattr(item, "__dask_graph__"):
            yield from (input_location(array) for array in zarr_arrays_read(item))
        elif (location := input_location(item)) is not None:
            yield location


def zarr_arrays_read(collection):
    """The zarr arrays a dask collection's graph reads (``da.from_zarr``, ``from_array``).

    Found among the graph's values, the arguments of its tasks (an inlined
    array) and the sources tileblot wraps (they keep theirs as ``.array``).
    """
    name = getattr(collection, "name", None)  # dask's names are tokens of the graph
    if name is not None and name in _READ:
        return _READ[name]
    found = {}
    todo = list(dict(collection.__dask_graph__()).values())
    while todo:
        value = todo.pop()
        value = getattr(value, "value", value)  # dask's DataNode around a literal
        if isinstance(value, zarr.Array):
            found[id(value)] = value
        elif isinstance(getattr(value, "array", None), zarr.Array):
            found[id(value.array)] = value.array
        elif isinstance(args := getattr(value, "args", None), tuple):  # a task
            todo.extend(args)
    if name is not None:  # one walk for the many exposures of one mosaic
        if len(_READ) > 64:
            _READ.clear()
        _READ[name] = list(found.values())
    return list(found.values())


_READ = {}


def within(location, outer):
    """Whether ``location`` lies under ``outer`` (both as :func:`store_location` gives them)."""
    return location.startswith(outer + "/")


def _check_two_apart(store, out, what, location):
    if location == out or within(location, out):
        raise ValueError(
            f"the {what} ({location}) lies inside the output store {store_label(store)}: writing "
            "the output would destroy its own input; write to another store"
        )
    if within(out, location):
        raise ValueError(
            f"the output store {store_label(store)} lies inside the {what} ({location}): its "
            "tiles would change the input as a resume sees it; write it outside"
        )


def in_memory(store):
    """Whether ``store`` lives in this process's memory only (invisible to other processes).

    A wrapper (``zarr.storage.LoggingStore``, ...) lives where the store it wraps does.
    """
    while isinstance(store, zarr.storage.WrapperStore):
        store = store._store  # zarr keeps no public name for it (zarr 3.1)
    if isinstance(store, zarr.storage.MemoryStore):
        return True
    if _urls.is_location(store) and _urls.protocol(store) == "memory":
        return True
    if isinstance(store, zarr.storage.FsspecStore):
        return "memory" in getattr(store.fs, "protocol", ())
    return False


def _workers_share_memory(client):
    """Whether the tasks of ``client`` (or of dask's current scheduler) run in this process."""
    client = current_client(client)
    if client is not None:
        workers = scheduler_workers(client)
        return bool(workers) and all(addr.startswith("inproc://") for addr in workers)
    import dask.base
    import dask.local
    import dask.threaded

    scheduler = dask.base.get_scheduler()
    return scheduler is None or scheduler in (dask.threaded.get, dask.local.get_sync)


def check_shared(store, client, inputs=None):
    """``ValueError`` for an in-memory store or input that the workers could not see.

    Each worker process would write into its own copy of the store: the job
    would finish with an empty image. An input on fsspec's ``memory://``
    filesystem is empty in every other process (zarr would read its chunks as
    zeros); a ``zarr.storage.MemoryStore`` input travels with its contents.
    ``inputs`` maps a name to anything :func:`input_location` takes.
    """
    lost = [(what, location) for what, location in
            ((what, None if item is None else input_location(item))
             for what, item in (inputs or {}).items())
            if location is not None and location.startswith("memory://")]
    if not (in_memory(store) or lost) or _workers_share_memory(client):
        return
    elsewhere = ("the tasks run in other processes (a distributed or process-based "
                 "scheduler), which")
    if in_memory(store):
        raise ValueError(
            f"output store {store_label(store)} lives in this process's memory, but {elsewhere} "
            "would each write into their own copy; use a store on a filesystem or object store "
            "all workers share"
        )
    what, location = lost[0]
    raise ValueError(
        f"the {what} ({location}) lives in this process's memory, but {elsewhere} would each "
        "find an empty memory:// filesystem; use a filesystem or object store all workers share"
    )


def check_writable(store):
    """``ValueError`` unless a local output can be written where it is: before any work.

    An existing store directory must be writable to this user. Otherwise the
    nearest existing directory above it must take a new file (tried, then
    removed: permissions, a read-only or immutable directory, ``/sys``), and a
    file on the way is named. Other stores are left to the lock's first write.
    """
    if not is_local_path(store):
        return
    path = _urls.local_path(store)
    if os.path.isdir(path):
        # Not probed inside: a probe file would be a foreign key to a job starting on it.
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"output store {store_label(store)} cannot be written: permission "
                             "denied")
        return
    here = path
    # os.path, not Path.exists: that raises for a directory this user cannot enter; lexists,
    # so that a broken symbolic link on the way is found, not walked past.
    while not os.path.lexists(here) and here != here.parent:
        here = here.parent
    if os.path.islink(here) and not os.path.exists(here):
        raise ValueError(f"output store {store_label(store)} cannot be made: {str(here)!r} is a "
                         f"symbolic link to {os.readlink(here)!r}, which does not exist")
    if not os.path.isdir(here):
        raise ValueError(f"output store {store_label(store)} cannot be made: {str(here)!r} is a "
                         "file, not a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".tileblot-probe-", dir=here)
    except OSError as exc:
        raise ValueError(f"output store {store_label(store)} cannot be written: "
                         f"{exc.strerror or exc} in {str(here)!r}") from None
    os.close(handle)
    os.unlink(probe)
