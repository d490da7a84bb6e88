"""Locations: a path or an fsspec URL, with its ``storage_options``, and what opens it.

The one place that decides whether a location is local and how it is opened:

* A location is local when fsspec finds no protocol in it (``mosaic.zarr``,
  ``/data/x.fits``, a ``pathlib.Path``) or the protocol is ``file://`` (or
  ``local://``). A local location is used as an absolute path: ``file:///abs/out.zarr``
  and ``/abs/out.zarr`` are the same location, and a relative path means the same file
  however far the job travels (workers have their own working directories).
* Anything else (``s3://``, ``gs://``, ``memory://``, ...) is opened through fsspec with
  the user's ``storage_options``. The backend package is checked when the location is
  first seen, so a missing one is named (``pip install s3fs``) before any work starts.

zarr stores come from :func:`zarr_store`: ``LocalStore`` for local locations,
``FsspecStore`` for the rest. Both pickle with everything a worker needs (for an
object store: its ``storage_options``).
"""

import os
from collections.abc import Mapping
from pathlib import Path

import fsspec
from fsspec.core import split_protocol
from fsspec.registry import known_implementations

_LOCAL = ("file", "local")

# Backends that one of tileblot's extras installs: named in the message for a missing one.
_EXTRAS = {"s3": "tileblot[s3]", "s3a": "tileblot[s3]"}


def is_location(obj):
    """Whether ``obj`` names a location (a ``str`` or ``os.PathLike``) rather than an object."""
    return isinstance(obj, (str, os.PathLike))


def protocol(location):
    """The location's fsspec protocol: ``"file"`` for local paths, else e.g. ``"s3"``."""
    found, _ = split_protocol(os.fspath(location))
    return "file" if found is None or found in _LOCAL else found


def is_local(location):
    """Whether ``location`` is on the local filesystem (a plain path or ``file://``)."""
    return protocol(location) == "file"


def local_path(location):
    """The absolute local path of a local location (``file://`` stripped), not resolving links."""
    text = os.fspath(location)
    found, rest = split_protocol(text)
    if found is not None and found not in _LOCAL:
        raise ValueError(f"{text!r} is not a local path")
    return Path(os.path.abspath(os.path.expanduser(rest if found else text)))


def location_url(location):
    """A canonical spelling: ``file:///abs/path`` for local locations, the URL otherwise.

    Symbolic links are resolved for local paths, so two spellings of one file agree.
    """
    if is_local(location):
        return local_path(location).resolve().as_uri()
    return os.fspath(location)


def check_storage_options(storage_options):
    """``storage_options`` as a plain dict (``None``: empty), or a ``TypeError``."""
    if storage_options is None:
        return {}
    if not isinstance(storage_options, Mapping) or not all(
        isinstance(key, str) for key in storage_options
    ):
        raise TypeError(
            "storage_options must be a mapping of option names (str) to values, got "
            f"{type(storage_options).__name__}"
        )
    return dict(storage_options)


def check_options_apply(storage_options, *arguments):
    """Refuse ``storage_options`` when none of a call's ``arguments`` is a URL.

    One mapping serves every URL of a call (data, pixmap, output), and local paths
    or arrays among them simply do not use it; given with no URL at all, it is a
    mistake worth naming.
    """
    options = check_storage_options(storage_options)
    urls = [a for a in arguments if is_location(a) and not is_local(a)]
    if options and not urls:
        raise ValueError(
            "storage_options apply to URLs (s3://, gs://, ...), and no input or output of "
            "this call is one"
        )
    return options


def _remote_options(storage_options, location):
    """The options a location uses: all of them for a URL, none for a local path."""
    options = check_storage_options(storage_options)
    return {} if is_local(location) else options


def check_backend(location, *, what):
    """Make sure fsspec can open ``location``'s protocol; else a ``ValueError`` naming the fix."""
    name = protocol(location)
    if name == "file":
        return
    try:
        fsspec.get_filesystem_class(name)
    except ImportError as exc:
        raise ValueError(f"{what}: {os.fspath(location)!r} {missing_backend(name, exc)}") from None
    except ValueError:
        raise ValueError(
            f"{what}: {os.fspath(location)!r} has a protocol fsspec does not know: {name!r}"
        ) from None


def missing_backend(name, exc=None):
    """The words for a missing fsspec backend: which package installs protocol ``name``."""
    spec = known_implementations.get(name, {})
    package = spec.get("class", "").split(".", 1)[0] or name
    extra = _EXTRAS.get(name)
    hint = f"pip install {package}" + (f" (or pip install '{extra}')" if extra else "")
    detail = f" ({exc})" if exc is not None else ""
    return f"needs the fsspec backend for {name}:// that {package} provides: {hint}{detail}"


def zarr_store(location, *, storage_options=None, read_only, what):
    """A zarr store for ``location``: ``LocalStore`` if local, else ``FsspecStore``."""
    import zarr

    options = _remote_options(storage_options, location)
    if is_local(location):
        return zarr.storage.LocalStore(local_path(location), read_only=read_only)
    check_backend(location, what=what)
    return zarr.storage.FsspecStore.from_url(
        os.fspath(location), storage_options=options, read_only=read_only
    )


def open_file(location, *, storage_options=None, what):
    """A binary file object for reading ``location`` (an fsspec ``OpenFile``, a context manager)."""
    options = _remote_options(storage_options, location)
    if is_local(location):
        return fsspec.open(local_path(location), "rb")
    check_backend(location, what=what)
    return fsspec.open(os.fspath(location), "rb", **options)


def exists(location, *, storage_options=None, what):
    """Whether anything (a file, a directory, an object prefix) lives at ``location``."""
    if is_local(location):
        return local_path(location).exists()
    check_backend(location, what=what)
    fs, path = fsspec.core.url_to_fs(
        os.fspath(location), **_remote_options(storage_options, location)
    )
    return fs.exists(path)


def output_store(store, *, storage_options=None, what="output store"):
    """What the store layer opens for an output: an absolute ``Path`` if local, else a store.

    A local output stays a path so that the store layer can look at the directory itself
    (refusing foreign ones); a URL becomes an ``FsspecStore`` carrying the options; a
    store object is used as it is.
    """
    if not is_location(store):
        return store
    options = _remote_options(storage_options, store)
    if is_local(store):
        return local_path(store)
    return zarr_store(store, storage_options=options, read_only=False, what=what)


def store_location(store):
    """The URL a zarr store object writes to (``file://...``, ``s3://...``), if it has one."""
    root = getattr(store, "root", None)  # LocalStore
    if root is not None:
        return Path(root).as_uri()
    fs, path = getattr(store, "fs", None), getattr(store, "path", None)
    if fs is None or path is None:
        return None
    return sync_filesystem(fs).unstrip_protocol(path)


def sync_filesystem(fs):
    """A synchronous twin of an fsspec filesystem (zarr opens object stores asynchronously).

    Calling blocking methods on an asynchronous instance outside its event loop fails;
    listings and ``info`` for identities and checks go through this twin instead.
    """
    inner = getattr(fs, "sync_fs", None)  # zarr's wrapper around a synchronous filesystem
    if inner is not None:
        return inner
    if not getattr(fs, "asynchronous", False):
        return fs
    return type(fs)(**{**fs.storage_options, "asynchronous": False})
