"""What an output location must be before a job writes to it: the refusals.

Cheap checks first (:func:`check_location`: the store's root and lock only, run by the
command line before it reads any input or starts a cluster), then those that read a
resumed store's record (:func:`check_output`). Nothing here writes; the lock itself is
taken later, atomically (:func:`tileblot._io._store.take_output`).
"""

import os

from . import _lock, _urls
from ._locations import check_writable, is_local_path, store_label
from ._record import check_resumable, read_record
from ._store import (
    check_arrays,
    check_not_symlink,
    is_output_root,
    is_tileblot_output,
    not_an_output,
    open_root,
    started_only,
    store_exists,
    tileblot_group,
)


def check_location(store, *, overwrite=False, resume=False, break_lock=False):
    """The refusals that read only the store's root and lock; returns whether it holds
    anything of a job (``False`` too for a store that holds only what a job killed while it
    started left: that store is started afresh, see :func:`~._store.started_only`).

    Cheap enough to run before a job identifies its inputs or starts a cluster
    (the command line does): a symbolic link, a place that cannot be written or
    lies inside another output, an existing store without ``overwrite`` or
    ``resume`` or that is not a tileblot output, and one a live job holds
    (unless ``break_lock``; the lock itself is taken later, atomically).
    """
    check_not_symlink(store)
    check_writable(store)
    check_not_nested(store)
    if not store_exists(store):
        return False
    root = open_root(store, mode="r")
    owner = None if break_lock else _lock.read_lock(root)
    if owner is not None and not _lock.lock_is_stale(owner):
        # First: a store another job is creating this instant holds only its lock, and any
        # other refusal ("not a tileblot output", "already exists") would mislead.
        raise _lock.in_use(store_label(store), owner)
    if started_only(root):
        return False  # a job killed while it started: nothing to resume, nothing to lose
    if not (overwrite or resume):
        raise ValueError(f"output store {store_label(store)} already exists; pass "
                         "overwrite=True (--overwrite) to replace it or resume=True (--resume) "
                         "to finish an interrupted job")
    if resume and tileblot_group(root) is None:
        raise not_an_output(root, store, "cannot resume: ")
    if not is_tileblot_output(root):
        raise ValueError(f"output store {store_label(store)} exists and is not a tileblot "
                         "output; refusing to delete it")
    return True


def check_output(store, record, *, overwrite=False, resume=False, break_lock=False, first=None):
    """Refuse (``ValueError``) what no lock could make safe; writes nothing. Returns whether
    the job resumes the store (``resume``, and the store holds a job's work).

    :func:`check_location`'s refusals, then: a resumed store must have been
    written with the same parameters, inputs, shape and tiles (``record``,
    the plan's :meth:`BlotPlan.record`); a refusal names what differs.
    ``first``, if given, is called with the record a resumed store holds
    before that comparison: the caller's own checks of it, which name a
    difference more precisely (a WCS that moves the image, rather than the
    pixmap made from it).
    """
    holds = check_location(store, overwrite=overwrite, resume=resume, break_lock=break_lock)
    if resume and holds:
        group = tileblot_group(open_root(store, mode="r"))
        held = read_record(group, store)
        check_arrays(group, store, held)
        if first is not None:
            first(held)
        check_resumable(store, held, record)
    return resume and holds


def check_not_nested(store):
    """``ValueError`` if a local output lies inside another tileblot output store.

    Overwriting that outer store would delete it (its directories are the
    outer one's nodes, or sit beside them).
    """
    if not is_local_path(store):
        return
    for parent in _urls.local_path(store).parents:
        if os.path.isfile(parent / "zarr.json") and is_output_root(parent):
            raise ValueError(f"output store {store_label(store)} lies inside the tileblot output "
                             f"store {str(parent)!r}: overwriting that one would delete it; "
                             "write it beside, not inside")


def lock_of_output(store):
    """The lock on an existing tileblot output (``None`` if none); ``ValueError`` for another store.

    Unlike :func:`describe`, it reads nothing but the root and the lock, so it
    answers for a damaged store too, which an overwrite may replace.
    """
    root = open_root(store, mode="r")
    if not is_tileblot_output(root):
        raise ValueError(f"{store_label(store)} is not a tileblot output store")
    return _lock.read_lock(root)
