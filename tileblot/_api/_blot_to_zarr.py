"""The streaming facade: blot straight into zarr, tile by tile, resumable."""

import json

import dask
from dask.base import tokenize
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from ._blot import prepare_blot
from .._engine._graph import blot_graph
from .._engine._planning import tile_slices
from .._io._sources import source_token
from .._io._store import completed_tiles, create_output, make_meta, open_for_resume, write_tile


def _count(written):
    return sum(written)


def _regular(pixmap):
    """Regular (zarr) chunk sizes ``(cy, cx)``, rechunking the pixmap if needed."""
    cy, cx = pixmap.chunks[0][0], pixmap.chunks[1][0]
    regular = all(
        all(c == size for c in blocks[:-1]) and blocks[-1] <= size
        for blocks, size in ((pixmap.chunks[0], cy), (pixmap.chunks[1], cx))
    )
    if not regular:
        pixmap = pixmap.rechunk((cy, cx, 2))
    return pixmap, (cy, cx)


def _info(source, shape):
    """What the store records of an input, to recognise it when resuming."""
    return json.loads(json.dumps(
        {"shape": list(shape), "dtype": str(source.dtype), "token": list(source_token(source))},
        default=str,
    ))


def _store_job(data, pixmap, store, kwargs, overwrite, resume):
    """Validate one exposure and build the delayed that writes its missing tiles."""
    source, shape, pixmap, params = prepare_blot(data, pixmap, **kwargs)
    pixmap, chunks = _regular(pixmap)
    out_shape = pixmap.shape[:2]
    meta = make_meta(params, out_shape, chunks, _info(source, shape), _info(pixmap, pixmap.shape))
    if resume:
        image, done = open_for_resume(store, meta)
        finished = completed_tiles(done)
    else:
        image, done = create_output(store, out_shape, chunks, params.fillval, meta,
                                    overwrite=overwrite)
        finished = None
    tiles = blot_graph(source, shape, pixmap, params)
    name = "blot-store-" + tokenize(tiles.name, str(image.store_path))
    image_key, done_key = name + "-image", name + "-done"
    dsk = {image_key: image, done_key: done}
    rows, cols = tile_slices(tiles.chunks)
    written = []
    for ty, ys in enumerate(rows):
        for tx, xs in enumerate(cols):
            if finished is not None and finished[ty, tx]:
                continue
            key = (name, ty, tx)
            dsk[key] = (write_tile, (tiles.name, ty, tx), image_key, done_key, ty, tx, ys, xs)
            written.append(key)
    dsk[name] = (_count, written)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=(tiles,))
    return image, Delayed(name, graph)


def _run(jobs, progress, client):
    if client is None:
        try:
            from distributed import default_client

            client = default_client()
        except ValueError:
            client = None
    if client is not None:
        futures = client.compute(jobs)
        if progress:
            from distributed import progress as distributed_progress

            distributed_progress(futures)
        return client.gather(futures)
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return dask.compute(*jobs)
    return dask.compute(*jobs)


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
    progress=True,
    client=None,
):
    """Blot ``data`` onto ``pixmap``'s grid and stream the result into zarr.

    Each output tile is computed by one task, which writes its own zarr
    chunk and then records that the tile is complete; no output passes
    through the client. Several exposures of one mosaic can be blotted in
    one job by passing lists of pixmaps and stores.

    Parameters
    ----------
    data : array-like, dask.array.Array, zarr.Array or path
        The mosaic (see :func:`tileblot.blot`).
    pixmap : array-like, dask.array.Array, zarr.Array, path, or a list of these
        ``(ny, nx, 2)`` pixmap of one exposure, or a list (one per store).
    store : str, os.PathLike, zarr store, or a list of these
        Where to write. It becomes a zarr v3 group with an ``image`` array
        (float32, one chunk per tile) and a ``tiles_done`` record array; its
        attributes record the parameters, the inputs and tileblot's version.
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
    chunks : int, (int, int) or tuple of tuples, optional
        Output tile size, as for :func:`tileblot.blot`; each tile is one
        zarr chunk. Tiles must be regular for zarr: an irregular pixmap
        chunking is replaced by its first chunk size.
    overwrite : bool, optional
        Replace an existing tileblot output. Without it (or ``resume``) an
        existing store is refused.
    resume : bool, optional
        Finish an interrupted job: tiles already recorded as complete are
        skipped. Refused if the store was written with other parameters,
        inputs, shape or tiles.
    progress : bool, optional
        Show a progress bar (dask's locally, distributed's with a client).
    client : distributed.Client, optional
        Run on this cluster; by default the current distributed client if
        there is one, else dask's local threaded scheduler.

    Returns
    -------
    zarr.Array or list of zarr.Array
        The ``image`` array of each store (a list when ``store`` is a list).

    Raises
    ------
    ValueError
        For an existing store without ``overwrite``/``resume``, both flags
        at once, a mismatched resume, list lengths that differ, and any
        invalid blot argument (see :func:`tileblot.blot`).

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
    if overwrite and resume:
        raise ValueError("pass overwrite=True or resume=True, not both")
    many = isinstance(store, (list, tuple))
    if many:
        if not isinstance(pixmap, (list, tuple)) or len(pixmap) != len(store):
            raise ValueError("with a list of stores, pass a list of pixmaps of the same length")
        if not store:
            raise ValueError("the list of stores is empty")
        pairs = list(zip(pixmap, store, strict=True))
    else:
        pairs = [(pixmap, store)]
    kwargs = dict(interp=interp, fillval=fillval, iscale=iscale, sinscl=sinscl, sincscl=sincscl,
                  precision=precision, chunks=chunks)
    images, jobs = [], []
    for pm, st in pairs:
        image, job = _store_job(data, pm, st, kwargs, overwrite, resume)
        images.append(image)
        jobs.append(job)
    _run(jobs, progress, client)
    return images if many else images[0]
