"""The streaming facade: blot straight into zarr, tile by tile, resumable."""

import os

from dask.base import tokenize

from .._engine._clients import current_client, worker_addresses
from .._engine._coverage import warn_coverage
from .._engine._graph import blot_graph, write_graph
from .._engine._planning import row_bands
from .._engine._validation import check_flags
from .._io import _lock
from .._io._codecs import output_compressors
from .._io._fits import fits_stem, is_fits_name
from .._io._locations import check_apart, check_distinct, check_shared
from .._io._record import check_resumable
from .._io._refusals import check_output
from .._io._store import (
    create_output,
    finish,
    held_record,
    holds_output,
    open_for_resume,
    recorded_tile_size,
    release,
    store_label,
    take_output,
)
from .._io._tile_writer import StoreLostError, TileWriter
from .._io._urls import check_options_apply, output_store
from .._io._verify import stopped_error
from ._compute import compute_jobs
from ._description import check_resumed, data_unit, wcs_entry
from ._exposures import named_exposure
from ._plan import check_common, plan_blot


def output_record(plan, sky):
    """What the store keeps: the plan's record, where the output is on the sky, and the unit
    of the mosaic's values (for the FITS export's ``BUNIT``)."""
    record = plan.record()
    if sky is not None:  # see _description.wcs_entry
        record["wcs"] = sky
    unit = data_unit(plan.data.array)
    if unit is not None:
        record["unit"] = unit
    return record


def check_store(plan, record, store, overwrite, resume, break_lock=False):
    """Everything about one output that can be refused without writing; returns whether the
    job resumes it (see :func:`~tileblot._io._refusals.check_output`)."""
    # A dask input has no location of its own: the zarr arrays its graph reads are checked.
    check_apart(store, {"data": [plan.data.identity, plan.data.array],
                        "pixmap": [plan.pixmap.identity, plan.pixmap.array]})
    return check_output(store, record, overwrite=overwrite, resume=resume,
                        break_lock=break_lock, first=_resumed_sky_check(plan, record, store))


def _resumed_sky_check(plan, record, store):
    """For :func:`~tileblot._io._refusals.check_output`: where the store's record puts the image
    on the sky, checked against ``record`` before the inputs' tokens (another exposure WCS
    changes its pixmap too, and is named for the WCS)."""
    # No warning here: write_plans checks the record again once it holds the store, and warns.
    return lambda held: check_resumed(store_label(store), held, record,
                                      (plan.shape, plan.data.shape), warn_missing=False)


def _store_job(plan, record, root, job, *, resume, verify, compressors=None, bands=1):
    """The image of a store ``job`` holds, delayeds that write its missing tiles, and their count.

    One delayed per band of tile rows (``bands`` of them, for as many
    workers), so that each worker can be given a contiguous part of the
    exposure: the mosaic chunks a band reads are then decoded by one worker
    only (see :mod:`tileblot._io._windows`).
    """
    if resume:
        image, done, todo = open_for_resume(root, verify=verify)
    else:
        image, done = create_output(root, plan.shape, plan.tiling.tile, plan.params.fillval,
                                    record, job, compressors=compressors)
        todo = None
    nty, ntx = plan.tiling.grid
    todo = [(ty, tx) for ty in range(nty) for tx in range(ntx) if todo is None or todo[ty, tx]]
    tiles = blot_graph(plan, counted=True)  # each tile with its pixels on the mosaic
    name = "blot-store-" + tokenize(plan.token, str(root), job)
    writer = TileWriter(image, done, root, job)
    if bands <= 1:
        return image, [write_graph(name, tiles, writer, todo)], len(todo)
    return image, [
        write_graph(f"{name}-{k}", tiles, writer,
                    [t for t in todo if rows.start <= t[0] < rows.stop])
        for k, rows in enumerate(row_bands(nty, bands))
    ], len(todo)


def _check_options(overwrite, resume, verify, break_lock, progress, client):
    """What :func:`blot_to_zarr` refuses of its options, before anything else."""
    check_flags(overwrite=overwrite, resume=resume, verify=verify, break_lock=break_lock)
    if not callable(progress):  # the command line's report is one
        check_flags(progress=progress)
    if client is not None and not callable(getattr(client, "scheduler_info", None)):
        raise TypeError(f"client must be a distributed.Client, got {client!r} (for a "
                        "scheduler's address, pass distributed.Client(address))")
    if overwrite and resume:
        raise ValueError("pass overwrite=True or resume=True, not both")
    if verify and not resume:
        raise ValueError("verify=True checks the tiles a job already wrote: pass it with "
                         "resume=True")


def blot_to_zarr(
    data,
    pixmap,
    store,
    *,
    interp="poly5",
    fillval=0.0,
    iscale=1.0,
    sinscl=1.0,
    sincscl=None,
    precision="high",
    chunks=None,
    overwrite=False,
    resume=False,
    verify=False,
    break_lock=False,
    progress=True,
    client=None,
    compressors=None,
    wcs=None,
    storage_options=None,
):
    """Blot ``data`` onto ``pixmap``'s grid and stream the result into zarr.

    Each output tile is computed by one task, which writes its own zarr
    chunk and then records that the tile is complete; no output passes
    through the client. Several exposures of one mosaic can be blotted in
    one job by passing lists of pixmaps and stores. The job holds a lock on
    each store while it runs, and succeeds only once the store itself shows
    every tile done.

    Parameters
    ----------
    data : array-like, dask.array.Array, zarr.Array, path or URL
        The mosaic (see :func:`tileblot.blot`).
    pixmap : array-like, dask.array.Array, zarr.Array, path, URL, or a list of these
        ``(ny, nx, 2)`` pixmap of one exposure, or a list (one per store).
    store : str, os.PathLike, zarr store, or a list of these
        Where to write: a local path, a ``file://`` URL, an fsspec URL
        (``s3://bucket/out.zarr``, ``gs://...``) or a zarr store object. It
        becomes a zarr v3 group with an ``image`` array (float32, one chunk
        per tile) and a ``tiles_done`` record array; its attributes record
        the parameters, the inputs and tileblot's version.
    interp : str, optional
        Interpolator name, as for :func:`tileblot.blot`.
    fillval : float, optional
        Value of output pixels that fall off the image; also the zarr
        fill value of ``image``.
    iscale : float, optional
        Factor applied to interpolated values; must be finite.
    sinscl : float, optional
        Scale of the sinc kernel (``interp="sinc"``).
    sincscl : float, optional
        Alias of ``sinscl``.
    precision : {"high", "drizzle"}, optional
        As for :func:`tileblot.blot` (default ``"high"``).
    chunks : int, (int, int), tuple of tuples or "auto", optional
        Output tile size, as for :func:`tileblot.blot`; each tile is one
        zarr chunk. Tiles must be regular for zarr: an irregular pixmap
        chunking is replaced by its first chunk size. When resuming without
        ``chunks``, or with ``"auto"``, the tiling recorded in the store is
        used.
    overwrite : bool, optional
        Replace an existing tileblot output. Without it (or ``resume``) an
        existing store is refused.
    resume : bool, optional
        Finish an interrupted job: tiles already done (recorded, with their
        image chunk in the store) are skipped; the others, including
        recorded tiles whose chunk is missing, are computed. Refused if the
        store was written with other parameters, inputs, shape or tiles. A
        store that does not exist yet (a job that never ran) is created and
        the job starts: ``resume=True`` runs a job until it is complete,
        however many times it is started.
    verify : bool, optional
        With ``resume``, also read and decode every done tile first and
        compute the corrupt ones again (as costly as reading the image once;
        see :func:`tileblot.verify_output`).
    break_lock : bool, optional
        Take the store even if another job's lock is on it. Only for a lock
        whose job is gone (client and workers) but cannot be recognised as
        such: one taken on another host. A stale lock of a dead process on
        this host is taken over without it.
    progress : bool, optional
        Show a progress bar (dask's locally, distributed's with a client).
    client : distributed.Client, optional
        Run on this cluster; by default the current distributed client if
        there is one, else dask's local threaded scheduler.
    compressors : str, zarr codec or list of zarr codecs, optional
        The image's codec. ``None`` (default): blosc with lz4 and byte
        shuffle, chosen by measurement (see the performance page). A name:
        ``"blosc-lz4"``, ``"blosc-zstd"``, ``"zstd"``, ``"zstd-N"`` (level
        N) or ``"none"``. Anything else is zarr v3 compressors, as zarr's
        ``create_array(compressors=...)`` takes them: a bytes-to-bytes codec
        (``zarr.codecs.ZstdCodec(level=3)``, ``numcodecs.zarr3.Blosc()``), its
        dict form, or an iterable of these; each is checked before any work
        (``TypeError``, or ``ValueError`` for a dict zarr cannot make a codec
        of). Whichever, a CRC-32C checksum follows, unless the codecs given end
        with one, so that a damaged chunk fails to decode (see
        :doc:`guarantees`). A resumed job keeps the store's codecs (the value
        given is still checked).
    wcs : astropy.wcs.WCS, astropy.io.fits.Header or gwcs.WCS, or a list of these, optional
        The exposure's WCS (one per store), recorded in the store as FITS
        header cards so that :func:`tileblot.export_fits` and ``tileblot
        export`` write it. By default it is the WCS ``pixmap`` was made from
        by :func:`tileblot.pixmap_from_wcs`, if it was. The mosaic's WCS is
        recorded too: the one ``pixmap_from_wcs`` used, else ``data``'s own
        (a FITS header, or a zarr array's ``attrs["wcs"]``). A gwcs (JWST,
        Roman) has no exact FITS form: it is recorded as gwcs's own TAN-SIP
        fit over its grid, to 0.01 pixel, with a ``TBGWCSAP`` card giving the
        largest error measured.
    storage_options : dict, optional
        Options for fsspec (credentials, ``endpoint_url``, ...) used by every
        input and output given as a URL (``s3://``, ``gs://``, ...). They
        travel to the workers inside the stores (credentials included) and
        are never recorded in the output. Refused when no argument is a URL.
        See :doc:`storage`.

    Returns
    -------
    zarr.Array or list of zarr.Array
        The ``image`` array of each store (a list when ``store`` is a list).

    Raises
    ------
    ValueError
        Before any work: for an existing store without ``overwrite``/
        ``resume``, both flags at once, a mismatched resume, list lengths
        that differ, the same store twice, an input inside an output store,
        a symlinked output path, a FITS-named store, an unknown codec, an
        in-memory store with worker processes, a store another live job
        holds, an object store that cannot be used (wrong endpoint, missing
        credentials or bucket, a bad option; see :doc:`storage`),
        ``storage_options`` without any URL, and any invalid blot argument
        (see :func:`tileblot.blot`).
    RuntimeError
        After the run, if the store itself does not show every tile done
        (recorded, with its chunk) or the job lost the store to another
        job. See :doc:`guarantees`.

    Warns
    -----
    CoverageWarning
        When fewer than :data:`tileblot.COVERAGE_THRESHOLD` (1%) of an
        exposure's pixels fall on the mosaic (none: "does not overlap the
        mosaic"), naming the store and the fraction: its image is (nearly)
        all ``fillval``. The fraction is recorded in the store (see
        :func:`tileblot.open_output`).

    See Also
    --------
    blot : The same blot as a lazy dask array.
    blot_image : The eager, in-memory blot (drizzle's function).

    Examples
    --------
    >>> import numpy as np
    >>> import tileblot
    >>> import zarr
    >>> data = np.arange(100.0).reshape(10, 10)
    >>> y, x = np.mgrid[0:4, 0:4]
    >>> pixmap = np.dstack([x + 2.5, y + 3.0])
    >>> store = zarr.storage.MemoryStore()
    >>> image = tileblot.blot_to_zarr(data, pixmap, store, interp="linear",
    ...                               chunks=2, progress=False)
    >>> image.shape, image.chunks
    ((4, 4), (2, 2))
    >>> float(image[0, 0])
    32.5
    """
    _check_options(overwrite, resume, verify, break_lock, progress, client)
    # Once (an iterable may be read only once), and a bad codec name fails before any work.
    compressors = output_compressors(compressors)
    many = isinstance(store, (list, tuple))
    if many:
        if not isinstance(pixmap, (list, tuple)) or len(pixmap) != len(store):
            raise ValueError("with a list of stores, pass a list of pixmaps of the same length")
        if not store:
            raise ValueError("the list of stores is empty")
        if wcs is not None and (not isinstance(wcs, (list, tuple)) or len(wcs) != len(store)):
            raise ValueError("with a list of stores, pass wcs as a list of the same length")
        triples = list(zip(pixmap, store, wcs or [None] * len(store), strict=True))
    else:
        triples = [(pixmap, store, wcs)]
    for st in (st for _, st, _ in triples):
        if is_fits_name(st):  # never a zarr directory under a FITS name
            raise ValueError(f"store {st!r} is named like a FITS file, but blot_to_zarr writes "
                             "zarr: write a .zarr store, then tileblot.export_fits(store, "
                             f"{fits_stem(os.fspath(st))[1]!r})")
    check_options_apply(storage_options, data, *(a for triple in triples for a in triple[:2]))
    # URL outputs become zarr stores carrying the options, here at the boundary: the store
    # layer, the lock, the final check and the workers' write tasks all get a store object.
    triples = [(pm, output_store(st, storage_options=storage_options), sk)
               for pm, st, sk in triples]
    options = dict(interp=interp, fillval=fillval, iscale=iscale, sinscl=sinscl, sincscl=sincscl,
                   precision=precision, storage_options=storage_options)
    client = current_client(client)  # chunks="auto" is sized for its workers
    if many:  # what every exposure shares is named as it is, not as exposure 1's
        check_common(data, **options)
    plans, skies = [], []
    for k, (pm, st, sk) in enumerate(triples):
        with named_exposure(k, len(triples), st):
            # Resuming without chunks, or with "auto" (which the first job chose), takes the
            # tiling the store was written with: another budget would choose another.
            keep = chunks is None or (isinstance(chunks, str) and chunks == "auto")
            recorded = recorded_tile_size(st) if resume and keep else None
            tile = chunks if recorded is None else recorded
            plans.append(plan_blot(data, pm, chunks=tile, regular=True, client=client,
                                   **options))
            skies.append(wcs_entry(plans[-1], pm, sk))
        data = plans[0].data  # validated and identified once for every exposure
    images = write_plans(plans, [st for _, st, _ in triples], overwrite=overwrite, resume=resume,
                         verify=verify, break_lock=break_lock, progress=progress, client=client,
                         compressors=compressors, skies=skies)
    return images if many else images[0]


def write_plans(plans, stores, *, overwrite=False, resume=False, verify=False,
                break_lock=False, progress=True, client=None, compressors=None, skies=None):
    """Run planned blots into their stores (what :func:`blot_to_zarr` does once it has plans).

    Parameters
    ----------
    plans : list of BlotPlan
        Made by :func:`tileblot._api._plan.plan_blot` with ``regular=True``.
    stores : list
        One output store per plan.
    overwrite, resume, verify, break_lock, progress, client, compressors
        As for :func:`blot_to_zarr`.
    skies : list of dict or None, optional
        One ``wcs`` record entry per plan (see :func:`tileblot._api._description.wcs_entry`),
        ``None`` where no WCS is known.

    Returns
    -------
    list of zarr.Array
        The ``image`` array of each store.
    """
    client = current_client(client)
    bands = max(1, len(worker_addresses(client))) if client is not None else 1
    skies = [None] * len(plans) if skies is None else skies
    records = [output_record(plan, sky) for plan, sky in zip(plans, skies, strict=True)]
    check_distinct(stores)
    # resume=True on a store that does not exist yet (or holds only what a job killed while
    # it started left) starts its job.
    resumes = []
    for k, (plan, record, store) in enumerate(zip(plans, records, stores, strict=True)):
        with named_exposure(k, len(plans), store):
            check_shared(store, client, {"data": plan.data.identity,
                                         "pixmap": plan.pixmap.identity})
            resumes.append(check_store(plan, record, store, overwrite, resume, break_lock))
    owner = _lock.new_owner()
    roots = []
    try:
        # Every store is taken before any is written: a refusal leaves all untouched.
        for store in stores:
            roots.append(take_output(store, owner, break_lock=break_lock))
        for k, (root, store) in enumerate(zip(roots, stores, strict=True)):
            if not resumes[k] and not overwrite and holds_output(root):
                # Made by another job since this one's checks found nothing there (both
                # checked before either took it): never created over, resumed if asked.
                if not resume:
                    raise ValueError(
                        f"output store {store_label(store)} was created by another job while "
                        "this one was starting; pass resume=True (--resume) to finish it or "
                        "overwrite=True (--overwrite) to replace it")
                resumes[k] = True
        # A resumed store keeps the record its first job wrote (another tileblot's, maybe);
        # the final check compares with that, read now that the store is held and checked
        # again against this plan (another job may have rewritten it since check_output).
        for k, (plan, record, root, store, again) in enumerate(zip(
                plans, records, roots, stores, resumes, strict=True)):
            if again:
                with named_exposure(k, len(plans), store):
                    records[k] = held_record(root)
                    check_resumable(store, records[k], record)
                    check_resumed(store_label(store), records[k], record,
                                  (plan.shape, plan.data.shape))
        images, jobs, todo = [], [], 0
        for plan, record, root, again in zip(plans, records, roots, resumes, strict=True):
            image, job, count = _store_job(plan, record, root, owner["job"], resume=again,
                                           verify=verify, compressors=compressors, bands=bands)
            images.append(image)
            jobs.append(job)
            todo += count
        sums = compute_jobs(jobs, progress, client, todo,
                            [store_label(store) for store in stores])
    except BaseException as exc:
        # A task that found a store deleted or taken stopped the job: say what happened to
        # each store, asked before this job lets go of those it still holds.
        stopped = (stopped_error(roots, [store_label(store) for store in stores], owner["job"],
                                 exc) if isinstance(exc, StoreLostError) else None)
        for root in roots:
            release(root, owner["job"])
        if stopped is not None:
            raise stopped from None
        raise
    # A resumed job's count covers only the tiles it wrote: the store's counts say the rest.
    counts = [None if again else onimage for (_, onimage), again in zip(sums, resumes,
                                                                        strict=True)]
    _finish_all(records, stores, roots, owner["job"], counts)
    return images


def _finish_all(records, stores, roots, job, counts):
    """The final check of every store (each releases its lock); one error for all that fail.

    Then a :class:`~tileblot.CoverageWarning` for each store whose exposure
    (nearly) misses the mosaic.
    """
    errors, coverages = [], []
    for record, store, root, onimage in zip(records, stores, roots, counts, strict=True):
        try:
            coverages.append(finish(root, record, job, label=store_label(store),
                                    onimage=onimage))
        except Exception as exc:  # the other stores are still checked, and their locks released
            errors.append(exc)
        except BaseException:  # interrupted: no store stays locked by this process
            for other in roots:
                release(other, job)
            raise
    if errors:
        failed = [exc for exc in errors if not isinstance(exc, RuntimeError)]
        if not failed:
            raise RuntimeError("; ".join(str(exc) for exc in errors))
        # Not a check that failed (a record that does not decode, a store out of reach):
        # raised as it is, the others noted.
        for exc in errors:
            if exc is not failed[0]:
                failed[0].add_note(f"also: {exc}")
        raise failed[0]
    for record, store, entry in zip(records, stores, coverages, strict=True):
        if entry is not None and not entry["partial"]:  # None: a store from 0.1, not counted
            # stacklevel: the caller of blot_to_zarr (warn_coverage, here, write_plans, ...).
            warn_coverage(f"output store {store_label(store)}", entry["onimage"],
                          entry["pixels"], record["params"]["fillval"], stacklevel=4)
