"""Lazy pixmaps: from a pair of WCSs (drizzle's ``calc_pixmap``, tile by tile) or an affine map.

A pixmap is ``(ny, nx, 2)``: ``pixmap[j, i] = (x, y)``, where exposure pixel
``(j, i)`` falls in the mosaic. Both builders return a dask array with one
task per tile; a task receives only its tile's pixel ranges, never the grid.

Thread safety: astropy's ``WCS`` is not safe to share between threads
(astropy issue 16244; reproject got wrong pixels from it). The WCSs are
copied once when the graph is built (so later changes by the caller do not
leak in) and again, once, inside every task, so no two threads ever touch
the same object.
"""

import copy
import math
import numbers

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .._engine._planning import normalize_tile_chunks, tile_slices
from .._engine._validation import as_float

_DISABLE_BBOX = ("to", "from", "both", "none")

# Errors that mean "this WCS has no value at these points" (wcslib's errors are
# ValueErrors); anything else (TypeError, AttributeError, ...) is a bug and propagates.
_UNDEFINED = (ValueError, ArithmeticError)


# --------------------------------------------------------------------------- validation


def _check_shape(shape):
    """``(ny, nx)`` as two positive Python ints, or a ``TypeError``/``ValueError`` naming it."""
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be a pair of positive integers (ny, nx), got {shape!r}"
        ) from None
    if len(items) != 2:
        raise ValueError(f"shape must have 2 entries (ny, nx), got {len(items)}: {items!r}")
    for n in items:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"shape must be a pair of positive integers (ny, nx), got {items!r}")
        if n < 1:
            raise ValueError(f"shape must be positive, got {items!r}")
    return int(items[0]), int(items[1])


def _check_wcs(name, wcs, method):
    if not callable(getattr(wcs, method, None)):
        raise TypeError(
            f"{name} must implement the shared Python WCS API (an astropy WCS, a gwcs WCS, ...): "
            f"{type(wcs).__name__} has no {method}()"
        )
    ndim = getattr(wcs, "pixel_n_dim", 2)
    if ndim != 2:
        raise ValueError(f"{name} must have 2 pixel axes, got {ndim}")


def _check_stepsize(stepsize):
    if stepsize is None:
        return 1
    if isinstance(stepsize, bool) or not isinstance(stepsize, numbers.Integral):
        raise TypeError(f"stepsize must be a positive integer or None, got {stepsize!r}")
    if stepsize < 1:
        raise ValueError(f"stepsize must be at least 1, got {stepsize}")
    return int(stepsize)


def _check_float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _copy_wcs(name, wcs):
    try:
        return copy.deepcopy(wcs)
    except Exception as exc:
        raise TypeError(
            f"{name} must support copy.deepcopy (each task works on its own copy, since WCS "
            f"objects are not thread-safe): {type(exc).__name__}: {exc}"
        ) from exc


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
    wcs_from = _copy_wcs("input_wcs", input_wcs)
    wcs_to = _copy_wcs("output_wcs", output_wcs)
    # calc_pixmap sets bounding_box = None temporarily on the caller's objects; ours are copies,
    # so it can stay off.
    if disable_bbox in ("from", "both") and getattr(wcs_from, "bounding_box", None) is not None:
        wcs_from.bounding_box = None
    if disable_bbox in ("to", "both") and getattr(wcs_to, "bounding_box", None) is not None:
        wcs_to.bounding_box = None
    return wcs_from, wcs_to


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


def _nodes(start, stop, length, stepsize):
    """Sparse-grid nodes covering pixels ``start .. stop - 1`` of an axis of ``length``.

    The nodes are the *global* grid ``0, s, 2s, ...`` plus the last pixel
    ``length - 1``, so every pixel is interpolated from the same nodes whatever
    the tiling, and never extrapolated.
    """
    lo = (start // stepsize) * stepsize
    hi = min(-(-(stop - 1) // stepsize) * stepsize, length - 1)
    nodes = np.arange(lo, hi + 1, stepsize)
    if nodes[-1] != hi:
        nodes = np.append(nodes, hi)
    return nodes


def _weights(pixels, nodes):
    """For each pixel: its left and right node indices and the right node's weight."""
    k0 = np.clip(np.searchsorted(nodes, pixels, side="right") - 1, 0, nodes.size - 1)
    k1 = np.minimum(k0 + 1, nodes.size - 1)
    span = (nodes[k1] - nodes[k0]).astype(np.float64)
    t = np.divide(pixels - nodes[k0], span, out=np.zeros(pixels.size), where=span > 0)
    return k0, k1, t


def _interpolate(values, ky, kx):
    """Bilinear interpolation of node ``values`` (Ny, Nx): x first, then y, per pixel."""
    kx0, kx1, tx = kx
    ky0, ky1, ty = ky
    along_x = values[:, kx0] * (1.0 - tx) + values[:, kx1] * tx
    return along_x[ky0] * (1.0 - ty)[:, None] + along_x[ky1] * ty[:, None]


def _wcs_tile(wcs_from, wcs_to, y0, y1, x0, x1, shape, stepsize, dtype):
    """Pixmap of rows ``y0:y1``, columns ``x0:x1`` of a grid of ``shape``; one dask task."""
    # One copy per task: this thread's own objects (astropy WCS is not thread-safe).
    wcs_from = copy.deepcopy(wcs_from)
    wcs_to = copy.deepcopy(wcs_to)
    rows = np.arange(y0, y1, dtype=np.float64)
    cols = np.arange(x0, x1, dtype=np.float64)
    if stepsize == 1:
        y, x = np.meshgrid(rows, cols, indexing="ij")
        px, py = _evaluate(wcs_from, wcs_to, x, y)
    else:
        node_rows = _nodes(y0, y1, shape[0], stepsize)
        node_cols = _nodes(x0, x1, shape[1], stepsize)
        gy, gx = np.meshgrid(
            node_rows.astype(np.float64), node_cols.astype(np.float64), indexing="ij"
        )
        node_x, node_y = _evaluate(wcs_from, wcs_to, gx, gy)
        ky = _weights(rows, node_rows)
        kx = _weights(cols, node_cols)
        px = _interpolate(node_x, ky, kx)
        py = _interpolate(node_y, ky, kx)
        # A cell with an undefined corner (NaN propagates through the weights, even a zero
        # one) is evaluated exactly, so NaN appears where the WCS is undefined and nowhere else.
        redo = ~(np.isfinite(px) & np.isfinite(py))
        if redo.any():
            j, i = np.nonzero(redo)
            px[redo], py[redo] = _evaluate(wcs_from, wcs_to, cols[i], rows[j])
    out = np.empty((y1 - y0, x1 - x0, 2), dtype=dtype)
    out[..., 0] = px
    out[..., 1] = py
    return out


def _affine_tile(matrix, offset, y0, y1, x0, x1, dtype):
    """Affine pixmap of rows ``y0:y1``, columns ``x0:x1``; one dask task."""
    y = np.arange(y0, y1, dtype=np.float64)[:, None]
    x = np.arange(x0, x1, dtype=np.float64)[None, :]
    (a, b), (c, d) = matrix
    out = np.empty((y1 - y0, x1 - x0, 2), dtype=dtype)
    out[..., 0] = a * x + b * y + offset[0]
    out[..., 1] = c * x + d * y + offset[1]
    return out


# --------------------------------------------------------------------------- graph


def _tile_graph(name, func, blocks, dtype, *, before=(), after=(), data=None):
    """A ``(ny, nx, 2)`` dask array, one task ``func(*before, y0, y1, x0, x1, *after)`` per tile.

    ``blocks`` are the tile lengths per axis (:func:`normalize_tile_chunks`); ``before`` may
    name keys of ``data``, objects stored once in the graph rather than in every task.
    """
    row_slices, col_slices = tile_slices(blocks)
    dsk = dict(data or {})
    for iy, rows in enumerate(row_slices):
        for ix, cols in enumerate(col_slices):
            ranges = (rows.start, rows.stop, cols.start, cols.stop)
            dsk[(name, iy, ix, 0)] = (func, *before, *ranges, *after)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=(*blocks, (2,)), dtype=dtype)


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
        undefined are evaluated exactly. ``None`` or 1: exact.
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
        axes, ``stepsize < 1``, ``chunks`` is bad or ``disable_bbox`` unknown.

    See Also
    --------
    affine_pixmap : A pixmap from an affine map, for synthetic exposures.
    blot_image : Blot a mosaic through a (computed) pixmap.

    Notes
    -----
    The WCSs are copied when this is called: later changes to them do not
    affect the result. Each task copies them again, so threaded schedulers
    are safe.

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
    _check_wcs("input_wcs", input_wcs, "pixel_to_world_values")
    _check_wcs("output_wcs", output_wcs, "world_to_pixel_values")
    shape = _check_shape(_shape_from_wcs(input_wcs) if shape is None else shape)
    stepsize = _check_stepsize(stepsize)
    dtype = _check_float_dtype(dtype)
    blocks = normalize_tile_chunks(chunks, shape)
    wcs_from, wcs_to = _snapshot(input_wcs, output_wcs, disable_bbox)
    token = tokenize(wcs_from, wcs_to, shape, blocks, stepsize, dtype, disable_bbox)
    name = f"pixmap_from_wcs-{token}"
    keys = (f"pixmap-input-wcs-{token}", f"pixmap-output-wcs-{token}")
    data = dict(zip(keys, (wcs_from, wcs_to), strict=True))
    after = (shape, stepsize, dtype)
    return _tile_graph(name, _wcs_tile, blocks, dtype, before=keys, after=after, data=data)


def _affine_parameters(shape, matrix, offset, rotation, scale, shift, center):
    """``(matrix, offset)`` as nested tuples of floats, from either parametrisation."""
    rotation = as_float("rotation", rotation, finite=True)
    scale = as_float("scale", scale, finite=True, positive=True)
    shift = _pair("shift", shift)
    offset = _pair("offset", offset)
    geometric = rotation != 0.0 or scale != 1.0 or shift.any() or center is not None
    if geometric and (matrix is not None or offset.any()):
        raise ValueError("give either matrix/offset or rotation/scale/shift/center, not both")
    if not geometric:
        matrix = np.eye(2) if matrix is None else np.asarray(matrix, dtype=np.float64)
        if matrix.shape != (2, 2):
            raise ValueError(f"matrix must be 2 x 2, got shape {matrix.shape}")
    else:
        theta = math.radians(rotation)
        cos, sin = math.cos(theta), math.sin(theta)
        matrix = scale * np.array([[cos, -sin], [sin, cos]])
        if center is None:
            center = ((shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0)
        center = _pair("center", center)
        # p' = M (p - c) + c + shift = M p + (c + shift - M c)
        offset = center + shift - matrix @ center
    if not np.isfinite(matrix).all():
        raise ValueError(f"the affine matrix must be finite, got {matrix.tolist()}")
    return tuple(map(tuple, matrix.tolist())), tuple(offset.tolist())


def _pair(name, value):
    pair = np.asarray(value, dtype=np.float64)
    if pair.shape != (2,) or not np.isfinite(pair).all():
        raise ValueError(f"{name} must be a pair of finite numbers (x, y), got {value!r}")
    return pair


def affine_pixmap(
    shape,
    matrix=None,
    offset=(0.0, 0.0),
    *,
    rotation=0.0,
    scale=1.0,
    shift=(0.0, 0.0),
    center=None,
    chunks=None,
    dtype=np.float64,
):
    """Lazy pixmap of an affine map, for synthetic exposures of a mosaic.

    Exposure pixel ``(j, i)``, at ``p = (x, y) = (i, j)``, samples the mosaic at
    ``M @ p + offset``. Give ``M`` as ``matrix``, or describe it
    geometrically: ``p' = scale * R(rotation) @ (p - center) + center + shift``.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the exposure (the pixmap's grid).
    matrix : (2, 2) array_like, optional
        ``[[dx'/dx, dx'/dy], [dy'/dx, dy'/dy]]``. Exclusive with ``rotation``,
        ``scale``, ``shift`` and ``center``.
    offset : (float, float), optional
        ``(x, y)`` added after ``matrix``.
    rotation : float, optional
        Degrees, counter-clockwise with ``x`` right and ``y`` up (the usual
        image display, origin at the bottom left).
    scale : float, optional
        Mosaic pixels per exposure pixel (2: the exposure covers twice the
        extent of its pixel count).
    shift : (float, float), optional
        ``(x, y)`` shift of ``center``'s image in the mosaic.
    center : (float, float), optional
        ``(x, y)`` fixed point of rotation and scale; default the exposure's
        centre ``((nx - 1) / 2, (ny - 1) / 2)``.
    chunks : int, (int, int) or per-axis block sizes, optional
        Tile size (default 1024 x 1024); the last axis is never chunked.
    dtype : {float64, float32}, optional
        dtype of the pixmap.

    Returns
    -------
    dask.array.Array
        Shape ``(ny, nx, 2)``; ``.compute()`` (or ``np.asarray``) for numpy.

    Raises
    ------
    TypeError
        If ``shape`` is not a pair of integers or ``dtype`` is not float.
    ValueError
        If ``shape`` is not positive, both parametrisations are given, the
        matrix is not 2 x 2, a value is not finite, ``scale <= 0`` or
        ``chunks`` is bad.

    See Also
    --------
    pixmap_from_wcs : The pixmap between two WCSs.

    Examples
    --------
    >>> pixmap = affine_pixmap((3, 4), shift=(10.0, 20.0))
    >>> pixmap[2, 1].compute()
    array([11., 22.])
    >>> affine_pixmap((3, 3), rotation=90.0)[0, 1].compute().round(12)
    array([2., 1.])
    """
    shape = _check_shape(shape)
    dtype = _check_float_dtype(dtype)
    matrix, offset = _affine_parameters(shape, matrix, offset, rotation, scale, shift, center)
    blocks = normalize_tile_chunks(chunks, shape)
    name = f"affine_pixmap-{tokenize(shape, matrix, offset, blocks, dtype)}"
    return _tile_graph(name, _affine_tile, blocks, dtype, before=(matrix, offset), after=(dtype,))
