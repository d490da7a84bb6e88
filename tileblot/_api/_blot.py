"""The lazy facade: ``tileblot.blot`` returns a dask array, one task per tile."""

from .._engine._clients import current_client
from .._engine._graph import blot_graph
from .._engine._placement import place_bands
from .._io._urls import check_options_apply
from ._plan import plan_blot


def blot(
    data,
    pixmap,
    *,
    interp="poly5",
    fillval=0.0,
    iscale=1.0,
    sinscl=1.0,
    sincscl=None,
    precision="high",
    chunks=None,
    storage_options=None,
):
    """Blot ``data`` onto the grid of ``pixmap``, lazily, tile by tile.

    Each output tile is one dask task. It reads only its *window* of the
    data: the bounding box of its on-image pixmap coordinates, padded by the
    interpolator's halo and clipped to the image. Tiles that miss the image
    are filled with ``fillval`` without reading any data. The result is
    identical, bit for bit, to :func:`tileblot.blot_image` with the same
    ``precision``, whatever the chunking or the kind of data source.

    Parameters
    ----------
    data : array-like, dask.array.Array, zarr.Array, path or URL
        The mosaic, 2-D, any real dtype: a numpy array (shipped to workers
        once), a ``zarr.Array``, a dask array, any 2-D array-like that can
        be sliced (h5py dataset, FITS section, ``np.memmap``), or a path to
        a zarr array, a ``.npy`` file or a FITS file (``"file.fits[ext]"``);
        zarr and FITS may also be fsspec URLs (``s3://...``, ``gs://...``,
        ``file://...``).
    pixmap : array-like, dask.array.Array, zarr.Array, path or URL
        ``(ny, nx, 2)`` coordinates ``(x, y)`` in ``data`` of each output
        pixel; non-finite coordinates give ``fillval``.
    interp : str, optional
        ``"nearest"``, ``"linear"``, ``"poly3"``, ``"poly5"``, ``"sinc"``,
        ``"lan3"`` or ``"lan5"`` (``"lanczos3"``, ``"lanczos5"`` accepted).
    fillval : float, optional
        Value of output pixels that fall off the image.
    iscale : float, optional
        Factor applied to interpolated values; must be finite.
    sinscl : float, optional
        Scale of the sinc kernel (``interp="sinc"``).
    sincscl : float, optional
        Alias of ``sinscl``.
    precision : {"high", "drizzle"}, optional
        ``"high"`` (default here): float64 coordinates and arithmetic, exact
        Lanczos weights. ``"drizzle"``: drizzle 3.0's numbers.
    chunks : int, (int, int), tuple of tuples or "auto", optional
        Output tile size. Defaults to the pixmap's own chunking (zarr or
        dask), else 1024 x 1024. ``"auto"``: the largest square tile (a
        multiple of 128) whose task fits the memory budget at the pixmap's
        scale (see the performance page); under a distributed client, the
        budget of its tightest worker. Whatever the tile size, a tile
        whose window would pass the budget is blotted in pieces (halved
        along their longer side until each fits), each reading its own window.
    storage_options : dict, optional
        Options for fsspec (credentials, ``endpoint_url``, ...) used by every
        input given as a URL (``s3://``, ``gs://``, ...); they travel to the
        workers with the inputs. Refused when no input is a URL. See
        :doc:`storage`.

    Returns
    -------
    dask.array.Array
        The blotted image: float32, shape ``pixmap.shape[:2]``, one chunk
        per tile.

    See Also
    --------
    blot_to_zarr : Compute the tiles straight into a zarr store, resumably.
    blot_image : The eager, in-memory blot (drizzle's function).

    Notes
    -----
    When this process has a default ``distributed`` client with two or more
    workers as ``blot`` is called, the array asks for worker ``k`` to run the
    ``k``-th band of tile rows, loosely (work stealing still balances the
    load, and a band whose worker has gone runs on the others), so that each
    mosaic chunk is decoded by about one worker. That holds when the array
    itself is computed or persisted; an array derived from it is placed by
    dask alone.

    When ``data`` is itself a dask array, windows cannot be sliced lazily
    inside a task, so ``blot`` first computes every tile's window from the
    pixmap (reading the pixmap once, and no data) and wires each tile to the
    data blocks it needs.

    The mosaic is identified when ``blot`` is called and read when the array
    is computed: rewrite a mosaic in place, and call ``blot`` again. An array
    made before the rewrite may mix chunks this process still holds from the
    old mosaic with chunks read from the new one.

    Examples
    --------
    >>> import numpy as np
    >>> import tileblot
    >>> data = np.arange(100.0).reshape(10, 10)
    >>> y, x = np.mgrid[0:4, 0:4]
    >>> pixmap = np.dstack([x + 2.5, y + 3.0])
    >>> lazy = tileblot.blot(data, pixmap, interp="linear", chunks=2)
    >>> lazy.numblocks
    (2, 2)
    >>> float(lazy.compute()[0, 0])
    32.5
    """
    check_options_apply(storage_options, data, pixmap)
    client = current_client()
    plan = plan_blot(data, pixmap, interp=interp, fillval=fillval, iscale=iscale, sinscl=sinscl,
                     sincscl=sincscl, precision=precision, chunks=chunks,
                     storage_options=storage_options, client=client)
    # Under a distributed client, each worker gets one band of tile rows, so
    # that a mosaic chunk is decoded by about one worker (see _placement).
    return place_bands(blot_graph(plan), client)
