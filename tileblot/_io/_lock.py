"""The ownership lock: one job writes an output store at a time.

The lock is a small zarr group node, ``tileblot_lock``, inside the output
store; its attributes name the job that owns the store::

    {"job": "<random hex id>", "host": "...", "pid": 1234,
     "started": "2026-12-01T19:52:13+00:00", "version": "0.1.0"}

It is a key in the store (``tileblot_lock/zarr.json``), not a file lock, so
it works the same on a local directory, an object store and in memory.

Protocol
--------
- A job *acquires* the lock before it writes anything: it creates the key
  only if it is absent (``set_if_not_exists``) and reads it back; the job owns
  the store iff the key names its id. A lock held by another job is refused,
  unless it is *stale* (see :func:`lock_is_stale`) or the caller breaks it
  explicitly.
- Every tile task checks that its job still owns the store before it writes
  its data and again before it writes its record (see ``_tile_writer.TileWriter``).
  A task of a job that lost the store writes neither, and stops its job.
- At the end the client checks ownership once more (``_verify``), then
  releases the lock if it still holds it.

Limits
------
Plain object stores (S3 without conditional writes) have no atomic
create-if-absent: two jobs started within the same instant can both write the
key, and each may read its own id back before the other's write lands. The
last write wins the key; the other job then fails its first tile's ownership
check, which stops it, so it does not report success — but its first tasks
may have written image data before the key settled. Two jobs taking over one
stale lock at once race the same way on any store (delete, then create). A stale lock is
recognised only on the host that holds it (a dead pid, or a finished job of
this very process); on another host a crashed job's lock must be broken
explicitly (:func:`tileblot.break_lock`, ``--break-lock``).
"""

import datetime
import json
import os
import socket
import uuid

from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from .._version import __version__

LOCK = "tileblot_lock"

# Jobs of this process that are running now: a lock written by this process
# whose job is not among them was left by a job that ended (an exception,
# Ctrl-C in a notebook) and is stale.
_ACTIVE = set()


def _lock_key(root):
    return f"{root.path}/{LOCK}/zarr.json" if root.path else f"{LOCK}/zarr.json"


def new_owner():
    """A fresh owner record for a job starting in this process."""
    return {
        "job": uuid.uuid4().hex,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "version": __version__,
    }


def _encode(owner):
    node = {"zarr_format": 3, "node_type": "group", "attributes": {LOCK: owner}}
    return default_buffer_prototype().buffer.from_bytes(json.dumps(node).encode())


def read_lock(root):
    """The owner record of the lock in ``root`` (a ``zarr.storage.StorePath``), or None."""
    key, prototype = _lock_key(root), default_buffer_prototype()
    # Every tile task reads the lock twice: a store's synchronous read (a
    # local file read, ~0.1 ms) where it has one, rather than a round trip
    # through zarr's event loop (~1-3 ms).
    get_sync = getattr(root.store, "get_sync", None)
    buffer = (get_sync(key, prototype=prototype) if get_sync is not None
              else sync(root.store.get(key, prototype=prototype)))
    if buffer is None:
        return None
    try:
        owner = json.loads(buffer.to_bytes())["attributes"][LOCK]
    except (ValueError, KeyError, TypeError):
        # Unreadable (torn write, foreign content): held by nobody we can name.
        return {"job": None, "host": "?", "pid": None, "started": "?"}
    return owner if isinstance(owner, dict) else {"job": None, "host": "?", "pid": None}


def owns(root, job):
    """Whether the job with id ``job`` holds the lock of ``root``: one small read."""
    owner = read_lock(root)
    return owner is not None and owner.get("job") == job


def pid_alive(pid):
    """Whether process ``pid`` of this host may still run (True where that cannot be asked)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # exists but is not ours, or not a pid we can ask about: assume alive
    return True


def lock_is_stale(owner):
    """Whether a lock's owner is known to be gone.

    True when it was taken on this host by a process that no longer exists,
    or by this very process for a job that has ended. A lock from another
    host is never considered stale: its process cannot be checked from here.
    """
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    if owner["pid"] == os.getpid():
        return owner.get("job") not in _ACTIVE
    return not pid_alive(owner["pid"])


def describe_owner(owner):
    """A user's words for who holds a lock."""
    return (f"job {owner.get('job')} (pid {owner.get('pid')} on host {owner.get('host')}, "
            f"started {owner.get('started')})")


def in_use(label, owner):
    """The ``ValueError`` for a store whose lock ``owner``, a live job, holds."""
    return ValueError(f"output store {label} is in use by {describe_owner(owner)}; wait for it "
                      "to finish, or if that job is gone, break its lock (break_lock=True, "
                      "tileblot.break_lock(store), or --break-lock)")


def acquire(root, owner, *, label, break_lock=False):
    """Take the lock of ``root`` for ``owner``; ``ValueError`` if another live job holds it.

    A stale lock is taken over; so is any lock with ``break_lock=True``.
    """
    key = _lock_key(root)
    held = read_lock(root)
    other = held is not None and held.get("job") != owner["job"]
    if other and not (break_lock or lock_is_stale(held)):
        raise in_use(label, held)
    _ACTIVE.add(owner["job"])  # before the key: another job of this process reads it live
    try:  # the job's first writes: where a store that may only be read says so
        if other:
            sync(root.store.delete(key))
        sync(root.store.set_if_not_exists(key, _encode(owner)))
    except (PermissionError, FileNotFoundError) as exc:
        _ACTIVE.discard(owner["job"])
        why = ("the store refuses it: its permissions or these credentials allow reading only"
               if isinstance(exc, PermissionError) else "its bucket or folder is gone")
        raise ValueError(f"output store {label} cannot be written ({exc}): {why}") from None
    if not owns(root, owner["job"]):
        _ACTIVE.discard(owner["job"])
        raise ValueError(
            f"output store {label} was taken by {describe_owner(read_lock(root) or {})} "
            "while this job was starting; not writing to it"
        )


def release(root, job):
    """Drop the lock if ``job`` still holds it (never another job's lock)."""
    _ACTIVE.discard(job)
    if owns(root, job):
        sync(root.store.delete(_lock_key(root)))


def remove(root):
    """Delete whatever lock ``root`` holds; returns the owner record removed (or None)."""
    owner = read_lock(root)
    if owner is not None:
        sync(root.store.delete(_lock_key(root)))
    return owner
