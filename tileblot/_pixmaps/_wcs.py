"""Lazy pixmaps from a pair of WCSs: drizzle's ``calc_pixmap``, tile by tile.

A pixmap is ``(ny, nx, 2)``: ``pixmap[j, i] = (x, y)``, where exposure pixel
``(j, i)`` falls in the mosaic. The builder returns a dask array with one
task per tile; a task receives only its tile's pixel ranges, never the grid.

Thread safety: astropy's ``WCS`` is not safe to share between threads
(astropy issue 16244; reproject got wrong pixels from it). The WCSs are
copied once when the graph is built (so later changes by the caller do not
leak in), and every thread that runs tiles evaluates its own copy of those,
made on its first tile and reused by its next ones: no two threads ever
touch the same object, and a gwcs (whose copy costs 10-50 ms) is not copied
once per tile.
"""

import copy
import math
import threading
from collections import OrderedDict

import dask
import numpy as np
from dask.base import tokenize

from .._engine._planning import normalize_tile_chunks
from ._checks import (
    check_float_dtype,
    check_same_sky,
    check_shape,
    check_stepsize,
    check_wcs,
    copy_wcs,
)
from ._grid import tile_graph
from ._sparse import SPREAD_MARGIN, interpolate, nodes, unsmooth, weights

_DISABLE_BBOX = ("to", "from", "both", "none")

# Errors that mean "this WCS has no value at these points" (wcslib's errors are
# ValueErrors); anything else (TypeError, AttributeError, ...) is a bug and propagates.
_UNDEFINED = (ValueError, ArithmeticError)

# Each thread's own copies of the graphs' WCS pairs, most recent last.
_THREAD = threading.local()
_COPIES_PER_THREAD = 4


def _bounding_box(wcs):
    """The WCS's bounding box as intervals in x, y order (``None`` if none), as calc_pixmap does."""
    bbox = getattr(wcs, "bounding_box", None)
    if bbox is None:
        return None
    try:
        # astropy.modeling's ModelBoundingBox; checked by duck typing, as drizzle does.
        return bbox.bounding_box(order="F")
    except AttributeError:
        return tuple(bbox)


def _shape_from_wcs(wcs):
    """The grid shape calc_pixmap would use: ``array_shape``, else the bounding box's extent."""
    shape = getattr(wcs, "array_shape", None)
    if shape is None:
        bbox = _bounding_box(wcs)
        # drizzle 3.0 derives a shape only from a 2-D bounding box.
        if bbox is not None and np.ndim(bbox) > 1:
            shape = tuple(math.ceil(lim[1] + 0.5) for lim in bbox[::-1])
    if shape is None:
        raise ValueError(
            "shape is needed: input_wcs has neither array_shape nor a 2-D bounding_box"
        )
    return shape


def _snapshot(input_wcs, output_wcs, disable_bbox):
    """Private copies of both WCSs, bounding boxes disabled as ``calc_pixmap`` would."""
    if disable_bbox not in _DISABLE_BBOX:
        raise ValueError(f"disable_bbox must be one of {_DISABLE_BBOX}, got {disable_bbox!r}")
    wcs_from = copy_wcs("input_wcs", input_wcs)
    wcs_to = copy_wcs("output_wcs", output_wcs)
    # calc_pixmap sets bounding_box = None temporarily on the caller's objects; ours are copies,
    # so it can stay off.
    if disable_bbox in ("from", "both") and getattr(wcs_from, "bounding_box", None) is not None:
        wcs_from.bounding_box = None
    if disable_bbox in ("to", "both") and getattr(wcs_to, "bounding_box", None) is not None:
        wcs_to.bounding_box = None
    return wcs_from, wcs_to


def _wcs_token(wcs):
    """What names a WCS in the pixmap's token: the same for equal WCSs, in any process.

    dask's ``tokenize`` is that for astropy's ``WCS``, not for a gwcs: it gives its
    astropy models another token for every object (two equal ``Shift(1) & Shift(2)``
    differ), so a pipeline that loaded its WCSs again could never resume its job
    ("pixmap was modified"). A gwcs is named by its ASDF serialisation, gwcs's own
    description of itself (17 ms for an imager's). One that cannot be serialised keeps
    dask's token: its job is refused a resume rather than resumed from another pixmap.
    """
    if type(wcs).__module__.partition(".")[0] != "gwcs":
        return tokenize(wcs)
    import io

    try:
        import asdf

        buffer = io.BytesIO()
        asdf.AsdfFile({"wcs": wcs}).write_to(buffer)
    except Exception:  # a model without an ASDF converter, asdf missing: anything
        return tokenize(wcs)
    written = buffer.getvalue()
    # Only the WCS's own node and blocks: the header lists asdf's extensions in an order
    # that changes from one process to the next.
    start = written.find(b"\nwcs: ")
    return tokenize(written[start:] if start >= 0 else written)


# --------------------------------------------------------------------------- tile functions


def _transform(wcs_from, wcs_to, x, y):
    """Exposure pixels ``(x, y)`` -> mosaic pixels; NaN (both) where either is not finite."""
    world = wcs_from.pixel_to_world_values(x, y)
    px, py = wcs_to.world_to_pixel_values(*world)
    px = np.array(np.broadcast_to(px, np.shape(x)), dtype=np.float64)
    py = np.array(np.broadcast_to(py, np.shape(x)), dtype=np.float64)
    bad = ~(np.isfinite(px) & np.isfinite(py))
    px[bad] = np.nan
    py[bad] = np.nan
    return px, py


def _evaluate(wcs_from, wcs_to, x, y):
    """:func:`_transform`, but points where a WCS raises come out NaN.

    Vectorised first; on an error the points are bisected, so a few bad points
    cost O(k log n) calls rather than one call per pixel.
    """
    try:
        return _transform(wcs_from, wcs_to, x, y)
    except _UNDEFINED:
        if x.size == 1:
            return np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    flat_x, flat_y = x.ravel(), y.ravel()
    half = flat_x.size // 2
    ax, ay = _evaluate(wcs_from, wcs_to, flat_x[:half], flat_y[:half])
    bx, by = _evaluate(wcs_from, wcs_to, flat_x[half:], flat_y[half:])
    return np.concatenate([ax, bx]).reshape(x.shape), np.concatenate([ay, by]).reshape(x.shape)


def _own_copies(wcs_from, wcs_to):
    """This thread's copies of a graph's WCS pair: made on its first tile, then reused.

    The graph's objects are shared by every thread of a worker. The cache keeps the
    originals alive with their copies, so an ``id`` is never reused for another object
    while it is cached; it holds the last few pairs only.
    """
    cache = getattr(_THREAD, "copies", None)
    if cache is None:
        cache = _THREAD.copies = OrderedDict()
    key = (id(wcs_from), id(wcs_to))
    if key in cache:
        cache.move_to_end(key)
        return cache[key][2:]
    cache[key] = (wcs_from, wcs_to, copy.deepcopy(wcs_from), copy.deepcopy(wcs_to))
    while len(cache) > _COPIES_PER_THREAD:
        cache.popitem(last=False)
    return cache[key][2:]


def _spread_bound(wcs_from, wcs_to, shape, stepsize):
    """Mosaic pixels beyond which a ``stepsize`` cell's nodes are checked for a jump (see
    :func:`~tileblot._pixmaps._sparse.unsmooth`): :data:`~._sparse.SPREAD_MARGIN` times what
    the map's scale makes a cell span, plus a pixel; ``None`` (check every cell) where the
    map is undefined at every sample.

    The scale is the least of those at 25 points spread over the exposure: a jump between
    a point and its neighbour (an exposure centred on the seam) only inflates a point's,
    and so do a pole's stretched pixels, which the least leaves checked; an undefined point
    (outside an all-sky projection) counts for nothing. A smaller bound only checks more
    cells. Every tile computes it from the same global points, so every tile, in every
    tiling, decides alike, and building the graph evaluates no WCS.
    """
    fractions = np.array([1.0, 3.0, 5.0, 7.0, 9.0]) / 10.0
    cy, cx = (np.floor(fractions * (n - 1)) for n in shape)
    y, x = (a.ravel() for a in np.meshgrid(cy, cx, indexing="ij"))
    px, py = _evaluate(wcs_from, wcs_to, np.concatenate([x, x + 1, x]),
                       np.concatenate([y, y, y + 1]))
    px, py = px.reshape(3, -1), py.reshape(3, -1)
    # Per point: mosaic pixels one exposure pixel spans along x and along y, the larger.
    spans = np.maximum(np.abs(px[1] - px[0]) + np.abs(px[2] - px[0]),
                       np.abs(py[1] - py[0]) + np.abs(py[2] - py[0]))
    spans = spans[np.isfinite(spans)]
    if not spans.size:
        return None
    return SPREAD_MARGIN * float(spans.min()) * stepsize + 1.0


def _thread_bound(wcs_from, wcs_to, shape, stepsize):
    """:func:`_spread_bound`, computed once per thread for these (its own) WCS copies.

    The cache keeps the WCSs it was computed for alive with it, so that an ``id`` is never
    reused for another object while it is cached.
    """
    cache = getattr(_THREAD, "bounds", None)
    if cache is None:
        cache = _THREAD.bounds = {}
    key = (id(wcs_from), id(wcs_to), tuple(shape), stepsize)
    if key not in cache:
        if len(cache) > 4 * _COPIES_PER_THREAD:
            cache.clear()
        cache[key] = (wcs_from, wcs_to, _spread_bound(wcs_from, wcs_to, shape, stepsize))
    return cache[key][2]


def _wcs_tile(wcs_from, wcs_to, y0, y1, x0, x1, shape, stepsize, dtype):
    """Pixmap of rows ``y0:y1``, columns ``x0:x1`` of a grid of ``shape``; one dask task."""
    # This thread's own objects (astropy's WCS is not thread-safe).
    wcs_from, wcs_to = _own_copies(wcs_from, wcs_to)
    rows = np.arange(y0, y1, dtype=np.float64)
    cols = np.arange(x0, x1, dtype=np.float64)
    if stepsize == 1:
        y, x = np.meshgrid(rows, cols, indexing="ij")
        px, py = _evaluate(wcs_from, wcs_to, x, y)
    else:
        node_rows = nodes(y0, y1, shape[0], stepsize)
        node_cols = nodes(x0, x1, shape[1], stepsize)
        gy, gx = np.meshgrid(
            node_rows.astype(np.float64), node_cols.astype(np.float64), indexing="ij"
        )
        node_x, node_y = _evaluate(wcs_from, wcs_to, gx, gy)
        ky = weights(rows, node_rows)
        kx = weights(cols, node_cols)
        px = interpolate(node_x, ky, kx)
        py = interpolate(node_y, ky, kx)
        # A cell with an undefined corner (NaN propagates through the weights) is evaluated
        # exactly, so NaN appears where the WCS is undefined and nowhere else; so is one
        # whose middle the interpolation misses (the map jumps inside it: the RA seam of an
        # all-sky mosaic). A pixel on a node line reads only that line's nodes (see
        # weights), and is checked with them, so tilings agree.
        redo = ~(np.isfinite(px) & np.isfinite(py))
        jumps = unsmooth(lambda x, y: _evaluate(wcs_from, wcs_to, x, y), (node_x, node_y),
                         node_rows, node_cols, ky, kx,
                         _thread_bound(wcs_from, wcs_to, shape, stepsize))
        if jumps is not None:
            redo |= jumps
        if redo.any():
            j, i = np.nonzero(redo)
            px[redo], py[redo] = _evaluate(wcs_from, wcs_to, cols[i], rows[j])
    out = np.empty((y1 - y0, x1 - x0, 2), dtype=dtype)
    out[..., 0] = px
    out[..., 1] = py
    return out


def pixmap_from_wcs(
    input_wcs,
    output_wcs,
    shape=None,
    *,
    chunks=None,
    stepsize=None,
    dtype=np.float64,
    disable_bbox="to",
):
    """Lazy pixmap from an exposure's WCS to a mosaic's: ``calc_pixmap``, tile by tile.

    For each pixel ``(j, i)`` of the exposure grid, ``pixmap[j, i] =
    output_wcs.world_to_pixel_values(*input_wcs.pixel_to_world_values(i, j))``:
    the same numbers as ``drizzle.utils.calc_pixmap(input_wcs, output_wcs,
    shape)``, bit for bit (with ``stepsize`` unset), computed one tile per
    dask task.

    Parameters
    ----------
    input_wcs : WCS
        The exposure's WCS (the grid the pixmap covers): an astropy ``WCS``, a
        gwcs ``WCS`` or any object with the shared Python WCS API
        (``pixel_to_world_values``; ``array_shape`` if ``shape`` is omitted).
        Must support ``copy.deepcopy``.
    output_wcs : WCS
        The mosaic's WCS (``world_to_pixel_values``).
    shape : (int, int), optional
        ``(ny, nx)`` of the exposure. Defaults to ``input_wcs.array_shape``,
        else to the extent of its 2-D ``bounding_box`` (as in drizzle).
    chunks : int, (int, int) or per-axis block sizes, optional
        Tile size of the pixmap's first two axes (the last axis is never
        chunked). Default 1024 x 1024.
    stepsize : int, optional
        Evaluate the WCSs only every ``stepsize`` pixels (and on the last row
        and column) and interpolate bilinearly in between, as the JWST
        pipeline's ``pixmap_stepsize``. The sparse grid is global, so values
        do not depend on ``chunks``. Cells with a corner where the WCS is
        undefined, and cells whose corners span far more than the map's scale
        and whose middle the interpolation misses by more than 0.1 px (a jump
        of the map: the RA seam of an all-sky mosaic), are evaluated exactly.
        ``None`` or 1: exact.
    dtype : {float64, float32}, optional
        dtype of the pixmap; coordinates are always computed in float64.
    disable_bbox : {"to", "from", "both", "none"}, optional
        Whose bounding box to ignore, as in ``calc_pixmap`` (default ``"to"``:
        the mosaic's, so exposure pixels off it still get coordinates).

    Returns
    -------
    dask.array.Array
        Shape ``(ny, nx, 2)``, coordinates ``(x, y)`` in the mosaic (0-based).
        NaN (both coordinates) where either WCS is undefined: not finite, or
        raising a ``ValueError`` or ``ArithmeticError`` for that point.

    Raises
    ------
    TypeError
        If a WCS lacks the needed method or cannot be deep-copied, ``shape``
        or ``stepsize`` are not integers, or ``dtype`` is not a float dtype.
    ValueError
        If the shape is unknown or not positive, a WCS does not have 2 pixel
        axes, the two WCSs' world axes differ in kind or order (galactic and
        equatorial, say: world values pass unconverted, as in drizzle),
        ``stepsize < 1``, ``chunks`` is bad or ``disable_bbox`` unknown.

    Warns
    -----
    UserWarning
        If both WCSs are celestial in different frames (ICRS and FK5, say).

    See Also
    --------
    affine_pixmap : A pixmap from an affine map, for synthetic exposures.
    blot_image : Blot a mosaic through a (computed) pixmap.

    Notes
    -----
    The WCSs are copied when this is called: later changes to them do not
    affect the result. Each thread evaluates its own copy of those, so
    threaded schedulers are safe.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> mosaic = WCS(naxis=2)
    >>> mosaic.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> mosaic.wcs.cdelt = [-1e-5, 1e-5]
    >>> mosaic.wcs.crpix = [1.0, 1.0]
    >>> exposure = mosaic.deepcopy()
    >>> exposure.wcs.crpix = [-9.0, -4.0]
    >>> pixmap = pixmap_from_wcs(exposure, mosaic, (4, 6), chunks=2)
    >>> pixmap.numblocks
    (2, 3, 1)
    >>> pixmap[0, 0].compute().round(6)
    array([10.,  5.])
    """
    check_wcs("input_wcs", input_wcs, "pixel_to_world_values")
    check_wcs("output_wcs", output_wcs, "world_to_pixel_values")
    check_same_sky(input_wcs, output_wcs)
    shape = check_shape(_shape_from_wcs(input_wcs) if shape is None else shape)
    stepsize = check_stepsize(stepsize)
    dtype = check_float_dtype(dtype)
    blocks = normalize_tile_chunks(chunks, shape)
    wcs_from, wcs_to = _snapshot(input_wcs, output_wcs, disable_bbox)
    token = tokenize(_wcs_token(wcs_from), _wcs_token(wcs_to), shape, blocks, stepsize, dtype,
                     disable_bbox)
    name = f"pixmap_from_wcs-{token}"
    keys = (f"pixmap-input-wcs-{token}", f"pixmap-output-wcs-{token}")
    data = dict(zip(keys, (wcs_from, wcs_to), strict=True))
    after = (shape, stepsize, dtype)
    return tile_graph(name, _wcs_tile, blocks, dtype, before=keys, after=after, data=data)


def wcs_pair(pixmap):
    """The ``(input_wcs, output_wcs)`` a :func:`pixmap_from_wcs` array was made from.

    ``None`` for any other pixmap, including one derived from it (rechunked,
    sliced, cast): only the array ``pixmap_from_wcs`` returned is known. The
    store uses this to record where an output is on the sky.
    """
    name = getattr(pixmap, "name", None)
    if not isinstance(name, str) or not name.startswith("pixmap_from_wcs-"):
        return None
    token = name.removeprefix("pixmap_from_wcs-")
    keys = (f"pixmap-input-wcs-{token}", f"pixmap-output-wcs-{token}")
    try:
        layers = [pixmap.dask.layers[key] for key in keys]
    except (AttributeError, KeyError):  # a graph laid out otherwise: not one of ours
        return None
    # Each WCS is its own one-key layer (a node holding the object): evaluate just that node.
    return tuple(dask.get(dict(layer), key) for layer, key in zip(layers, keys, strict=True))
