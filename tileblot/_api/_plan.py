"""The one place a blot's arguments are validated and turned into a :class:`BlotPlan`.

``blot``, ``blot_to_zarr`` and the command line all call :func:`plan_blot`
and only choose what to do with the plan: nothing below validates, converts,
hashes or rechunks an input again.
"""

from dask.base import tokenize

from .._engine._budget import (
    auto_tile,
    check_settings,
    sampled_extent,
    task_budget,
    workers_task_budget,
)
from .._engine._clients import scheduler_workers
from .._engine._graph import planned_windows
from .._engine._plan import BlotPlan, Input, Tiling
from .._engine._planning import normalize_tile_chunks, window_dtype
from .._engine._validation import check_data, check_min_size, check_pixmap, make_params
from .._io._identity import identify, input_identity, input_token
from .._io._sources import as_source, native_chunks, pixmap_to_dask
from .._io._windows import cached
from .._kernels._canonical import pixmap_dtype
from ._description import check_mosaic_wcs


def _input(source, shape):
    identity, changes = input_identity(source)
    token = input_token(identity)
    # Tasks read a chunked store's windows through the process's chunk cache, keyed by
    # the token (which includes the input's change stamp) and what the stamp cannot see.
    key = token if changes is None else f"{token}-{changes}"
    return Input(cached(source, key), tuple(shape), source.dtype, identity, token)


def _auto_chunks(chunks, pixmap, data, params, client):
    """``chunks="auto"``: the square tile whose task fits the memory budget at this scale,
    on ``client``'s workers (the tightest of them) where there is a client."""
    if chunks != "auto":
        raise ValueError(f"chunks must be an int, a pair, per-axis block sizes or 'auto', "
                         f"got {chunks!r}")
    pixmap_itemsize = pixmap_dtype(pixmap.dtype).itemsize
    window_itemsize = window_dtype(data.dtype, params.precision).itemsize
    budget = (task_budget() if client is None
              else workers_task_budget(scheduler_workers(client)))
    return auto_tile(budget, sampled_extent(pixmap), params.interp.halo,
                     pixmap_itemsize, window_itemsize)


def regular_chunks(blocks):
    """The regular tiling (zarr's grid) with the first tile's size: ``blocks`` if already so."""
    tiling = Tiling(blocks)
    if tiling.regular:
        return blocks
    return normalize_tile_chunks(tiling.tile, tiling.shape)


def check_common(data, *, interp, fillval, iscale, sinscl=1.0, sincscl=None, precision,
                 storage_options=None):
    """What every exposure of a call shares, validated: ``(params, source, shape)``.

    The parameters, the memory settings and the mosaic (opened; ``data`` may
    be another plan's); see :func:`plan_blot`.
    """
    params = make_params(interp=interp, fillval=fillval, iscale=iscale, sinscl=sinscl,
                         sincscl=sincscl, precision=precision)
    # A bad memory setting is named here, before any work (tasks read them where they run).
    check_settings()
    source = (data.array if isinstance(data, Input)
              else as_source(data, what="data", storage_options=storage_options))
    shape = data.shape if isinstance(data, Input) else check_data(source)
    check_min_size(params.interp, shape)
    return params, source, shape


def plan_blot(data, pixmap, *, interp, fillval, iscale, sinscl=1.0, sincscl=None,
              precision, chunks=None, regular=False, storage_options=None, client=None):
    """Validate one exposure's blot and return its :class:`BlotPlan`.

    Parameters
    ----------
    data, pixmap
        As for :func:`tileblot.blot`; ``data`` may also be the ``data`` of
        another plan, to share its validation and identity.
    interp, fillval, iscale, sinscl, sincscl, precision, chunks
        As for :func:`tileblot.blot`.
    regular : bool, optional
        Require a regular tiling (a zarr output's grid): an irregular one is
        replaced by its first tile's size.
    storage_options : dict, optional
        fsspec options for ``data`` and ``pixmap`` when they are URLs.
    client : distributed.Client, optional
        The cluster the job will run on: ``chunks="auto"`` is sized for its
        workers' memory (without one, for this process's budget).

    Returns
    -------
    BlotPlan
    """
    params, source, shape = check_common(data, interp=interp, fillval=fillval, iscale=iscale,
                                         sinscl=sinscl, sincscl=sincscl, precision=precision,
                                         storage_options=storage_options)
    pixmap_source = as_source(pixmap, what="pixmap", storage_options=storage_options)
    out_shape = check_pixmap(pixmap_source)
    check_mosaic_wcs(source, shape, pixmap)
    if isinstance(chunks, str):
        chunks = _auto_chunks(chunks, pixmap_source, source, params, client)
    elif chunks is None:
        chunks = native_chunks(pixmap_source)
    blocks = normalize_tile_chunks(chunks, out_shape)
    if regular:
        blocks = regular_chunks(blocks)
    # Identities last: an in-memory input is hashed (once), after every cheap check.
    data_input = data if isinstance(data, Input) else _input(source, shape)
    pixmap_identity = identify(pixmap_source)
    pixmap_token = input_token(pixmap_identity)
    lazy_pixmap = pixmap_to_dask(pixmap_source, blocks,
                                 name="pixmap-" + tokenize(pixmap_token, blocks))
    pixmap_input = Input(lazy_pixmap, (*out_shape, 2), pixmap_source.dtype, pixmap_identity,
                         pixmap_token)
    plan = BlotPlan(data_input, pixmap_input, Tiling(blocks), params)
    if data_input.is_dask:
        # Tasks over a dask array are wired to the data blocks they read: their
        # windows must be known now (one pass over the pixmap, no data read).
        plan = BlotPlan(data_input, pixmap_input, plan.tiling, params,
                        planned_windows(lazy_pixmap, shape, params))
    return plan
