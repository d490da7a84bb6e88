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
object store: its ``storage_options``, credentials included).

Every URL is *probed* when it is first opened (:func:`probe`): one request for its
bucket, with a short connect timeout and one retry for s3 (botocore's defaults, a
60 s connect timeout and up to 5 attempts, make a wrong port or an unreachable
endpoint wait for minutes). A wrong endpoint, missing credentials, a bad option or a
missing bucket is one ``ValueError`` naming the location, before zarr sends the
concurrent requests whose failures it reports less clearly. The job itself keeps the
backend's own timeouts and retries, which a long job on a busy store needs.
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote

import fsspec
from fsspec.core import split_protocol
from fsspec.registry import known_implementations

_LOCAL = ("file", "local")

# Backends that one of tileblot's extras installs: named in the message for a missing one.
_EXTRAS = {"s3": "tileblot[s3]", "s3a": "tileblot[s3]"}

# Protocols whose paths start with a bucket (container) that must exist before any write.
_BUCKETED = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"}

# Successful probes of this process (protocol, bucket, options): each is made once.
_PROBED = set()

# The probe's s3 settings (s3fs's config_kwargs, handed to botocore's Config); the
# user's own config_kwargs win. Measured on loopback (a closed port): one request gives
# up after 8-10 s with botocore's defaults (18 s through fsspec's exists, which asks
# twice), after 0.2-0.4 s with these.
PROBE_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 10,
                   "retries": {"total_max_attempts": 2, "mode": "standard"}}
#: s3fs's own attempts at the probe's request, on top of botocore's: its default, 5
#: with back-off, made an endpoint that takes connections and never answers (a dead
#: tunnel, a proxy without a backend) cost 5 x 2 x 30 s, 305 s measured, in silence.
PROBE_S3FS_RETRIES = 1


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
    """The absolute local path of a local location (``file://`` stripped), links kept.

    A ``..`` goes up as the system goes up: from where a link before it
    points (``link/../x`` is the ``x`` beside the link's target; shortened as
    text, it named the ``x`` beside the link). Links after the last ``..``
    are kept as they are, for the caller to see (an output that is a link, a
    dangling one on the way); a ``..`` the system cannot go up through (after a
    dangling link, or a file) stays in the path. A ``file://`` URL is decoded as RFC 8089 says
    (``%20`` is a space: what ``Path.as_uri()`` writes), and may name the host
    ``localhost``.
    """
    text = os.fspath(location)
    found, rest = split_protocol(text)
    if found is not None and found not in _LOCAL:
        raise ValueError(f"{text!r} is not a local path")
    if found is not None:
        rest = unquote(rest[len("localhost"):] if rest.startswith("localhost/") else rest)
    path = Path.cwd() / os.path.expanduser(rest if found else text)  # joined: ".." kept
    parts = path.parts
    if ".." not in parts:
        return path
    last = len(parts) - parts[::-1].index("..")
    head = Path(*parts[:last])
    if not os.path.isdir(head):  # asked of the system, which goes up through links
        # It cannot go up there (a dangling link, a file before the ".."): left as it is,
        # every use of the path fails as the system's would.
        return path
    return Path(os.path.realpath(head)).joinpath(*parts[last:])


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
    """What the store layer opens for an output: a local location as it is, else a store.

    A local output (a path or ``file://``) stays as the user spelled it (messages
    name it so), for the store layer to make absolute and to look at the directory
    itself (refusing foreign ones, symbolic links); a URL is
    probed (its bucket must exist) and becomes an ``FsspecStore`` carrying the
    options; a store object is used as it is.

    The ``FsspecStore`` lists without fsspec's listings cache (unless the options
    say otherwise): the workers write the store while the client checks it, and a
    cached listing would hide their keys (the lock, the tiles) from it.
    """
    if not is_location(store):
        return _check_store_object(store, what)
    if is_local(store):
        return store
    options = {"use_listings_cache": False, **check_storage_options(storage_options)}
    probe(store, storage_options=options, what=what)
    return zarr_store(store, storage_options=options, read_only=False, what=what)


def _check_store_object(store, what):
    """``store`` if zarr can write into it, else a ``TypeError`` naming ``what``.

    zarr itself would take ``None`` as a new store in memory, which the job
    would fill and then lose.
    """
    import zarr

    if not isinstance(store, (zarr.abc.store.Store, zarr.storage.StorePath, Mapping)):
        raise TypeError(f"{what} must be a path, a URL or a zarr store, "
                        f"got {type(store).__name__}")
    if isinstance(store, zarr.storage.LocalStore) and not Path(store.root).is_absolute():
        # Relative, it named another folder in a worker started elsewhere (as a path does).
        return zarr.storage.LocalStore(local_path(store.root), read_only=store.read_only)
    return store


def _probe_options(name, options):
    if name not in ("s3", "s3a"):
        return options
    config = options.get("config_kwargs") or {}
    return {**options, "config_kwargs": {**PROBE_S3_CONFIG, **config}}


def _bucket(path):
    return path.lstrip("/").split("/", 1)[0]


def probe(location, *, storage_options=None, what):
    """One request that shows a URL's filesystem can be used; ``ValueError`` if it cannot.

    Checks the backend, the options, the endpoint, the credentials and, for object
    stores, that the bucket exists; quickly (see :data:`PROBE_S3_CONFIG`). Does
    nothing for a local location.
    """
    if is_local(location):
        return
    text = os.fspath(location)
    check_backend(text, what=what)
    name = protocol(text)
    options = _probe_options(name, check_storage_options(storage_options))
    path = split_protocol(text)[1].lstrip("/")
    bucket = _bucket(path)
    if name in _BUCKETED and path.startswith(f"{bucket}//"):
        # Its keys would start with "/": written and read as such, but never listed, so a
        # job wrote every tile and then found none (and a resume could never finish).
        raise ValueError(f"{what}: {text!r} has an empty name after the bucket ('//'): "
                         f"write {name}://{bucket}/{path[len(bucket):].lstrip('/')}")
    key = json.dumps([name, bucket, options], sort_keys=True, default=repr)
    if key in _PROBED:  # this process reached the bucket with these options already
        return
    fs = None
    try:
        fs, _ = fsspec.core.url_to_fs(text, **options)
        if name in ("s3", "s3a"):
            # The probe's own instance (its options differ from the job's): s3fs's class
            # attribute, not an option it takes.
            fs.retries = PROBE_S3FS_RETRIES
        if name in _BUCKETED and bucket:
            fs.info(bucket)
        _PROBED.add(key)
    except PermissionError:
        # Allowed to read or write a prefix but not to look at the bucket (a common
        # policy): let the job's own requests say whether they may, unless a listing
        # there says the credentials themselves are refused (a HEAD request's 403 does
        # not say why).
        refused = fs is not None and _credentials_refused(fs, split_protocol(text)[1])
        if refused:
            raise ValueError(f"{what}: cannot use {text!r}{_endpoint(options)}: the store "
                             f"refuses these credentials ({refused}); check the key and "
                             "secret (storage_options, --storage-option key=...), the "
                             "environment or the profile") from None
        return
    except FileNotFoundError:
        raise ValueError(f"{what}: {text!r}: there is no bucket {bucket!r}"
                         f"{_endpoint(options, 'at')}") from None
    except Exception as exc:  # botocore, aiohttp, gcsfs, ...: each has its own types
        raise ValueError(f"{what}: cannot use {text!r}{_endpoint(options)}: "
                         f"{type(exc).__name__}: {exc}{_hint(exc)}") from None


#: The S3 error codes of credentials refused as such, not of a request they may not make.
_REFUSED_CREDENTIALS = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch",
                                  "InvalidToken", "ExpiredToken", "InvalidClientTokenId"})


def _credentials_refused(fs, path):
    """The store's code and message if one listing at ``path`` is refused for the
    credentials themselves, else ``""``."""
    try:
        fs.ls(path.rstrip("/"), detail=False)
    except PermissionError as exc:
        error = getattr(exc.__cause__, "response", {}).get("Error", {})
        if error.get("Code") in _REFUSED_CREDENTIALS:
            return f"{error['Code']}: {error.get('Message', '')}".rstrip(": ")
    except Exception:  # nothing there yet, or anything else: the job's requests will say
        pass
    return ""


def _endpoint(options, word="endpoint"):
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get(
        "endpoint_url")
    if not endpoint:
        return ""
    return f" at {endpoint}" if word == "at" else f" (endpoint {endpoint})"


def _hint(exc):
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return ("; give credentials in storage_options (key, secret; --storage-option "
                "key=...), the environment or a profile, or anon=true for a public bucket")
    if "Connect" in name or "Timeout" in name:
        return "; check the endpoint's host and port"
    return ""


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
