"""Looking after an output store: decode every chunk (and repair), break a stale lock.

The public :func:`tileblot.verify_output` and :func:`tileblot.break_lock`;
the protocol they serve is in :mod:`._store`, :mod:`._lock` and
:mod:`._verify`.
"""

import numpy as np

from .._engine._validation import check_flags
from . import _lock, _urls, _verify
from ._locations import store_label
from ._refusals import lock_of_output
from ._store import (
    check_not_symlink,
    describe,
    grid_shape,
    open_root,
    store_exists,
)


def _store(store, storage_options):
    _urls.check_options_apply(storage_options, store)
    return _urls.output_store(store, storage_options=storage_options)


def verify_output(store, *, repair=False, storage_options=None):
    """Check an output store tile by tile: records, chunks, and that every chunk decodes.

    Lists the store once, then reads and decodes every tile recorded as done
    (as costly as reading the image once). Nothing is changed unless
    ``repair``.

    Parameters
    ----------
    store : str, os.PathLike or zarr store
        An output of :func:`tileblot.blot_to_zarr`.
    repair : bool, optional
        Delete the records (and chunks) of the tiles found missing or
        corrupt, so that ``blot_to_zarr(..., resume=True)`` computes them
        again. Takes the store's lock while it does so: refused while another
        job writes the store.
    storage_options : dict, optional
        Options for fsspec when ``store`` is a URL (``s3://...``; see
        :doc:`storage`).

    Returns
    -------
    dict
        ``tiles`` (how many), ``tiles_done`` (recorded, present and
        decodable), ``tiles_missing_chunk`` and ``tiles_corrupt`` (lists of
        ``[row, column]`` tile indices), ``repaired`` (bool).

    Raises
    ------
    ValueError
        If ``store`` is not a tileblot output, or (with ``repair``) another
        live job holds it.

    Examples
    --------
    >>> import numpy as np, tileblot, zarr
    >>> store = zarr.storage.MemoryStore()
    >>> _ = tileblot.blot_to_zarr(np.ones((8, 8)), np.dstack(np.mgrid[0:4, 0:4][::-1]),
    ...                           store, interp="linear", chunks=2, progress=False)
    >>> report = tileblot.verify_output(store)
    >>> report["tiles"], report["tiles_done"], report["tiles_corrupt"]
    (4, 4, [])
    """
    check_flags(repair=repair)
    store = _store(store, storage_options)
    info = describe(store, verify=True)
    report = {key: info[key] for key in
              ("tiles", "tiles_done", "tiles_missing_chunk", "tiles_corrupt")}
    bad = report["tiles_missing_chunk"] + report["tiles_corrupt"]
    report["repaired"] = False
    if repair and bad:
        root = open_root(store)
        owner = _lock.new_owner()
        _lock.acquire(root, owner, label=store_label(store))
        try:
            # Scanned again now that no job can write: a job that ran since the scan above
            # may have rewritten those tiles, and its fresh records must not be forgotten.
            info = describe(store, verify=True)
            report = {key: info[key] for key in report if key != "repaired"}
            bad = report["tiles_missing_chunk"] + report["tiles_corrupt"]
            mask = np.zeros(grid_shape(info["shape"], info["chunks"]), dtype=bool)
            if bad:
                mask[tuple(np.array(bad).T)] = True
            _verify.forget_tiles(root, mask)
        finally:
            _lock.release(root, owner["job"])
        report["repaired"] = bool(bad)
    return report


def break_lock(store, *, storage_options=None):
    """Remove the ownership lock of an output store, whoever holds it.

    Use it only when the job that holds the lock is gone (its client *and*
    its workers): a job whose lock is broken while it still runs stops
    recording tiles and fails at its end, but a tile it is writing at that
    moment may still land in the store. A stale lock of a dead process on
    this host, or of a finished job of this process, is taken over without
    this.

    Parameters
    ----------
    store : str, os.PathLike or zarr store
        An output of :func:`tileblot.blot_to_zarr`.
    storage_options : dict, optional
        Options for fsspec when ``store`` is a URL (see :doc:`storage`).

    Returns
    -------
    dict or None
        The owner record that was removed (``job``, ``host``, ``pid``,
        ``started``, ``version``), or None if the store was not locked.

    Raises
    ------
    ValueError
        If ``store`` is not a tileblot output.
    """
    store = _store(store, storage_options)
    check_not_symlink(store)
    if not store_exists(store):
        raise ValueError(f"{store_label(store)} is not a tileblot output store")
    lock_of_output(store)  # refuses a store that is not a tileblot output
    return _lock.remove(open_root(store))
