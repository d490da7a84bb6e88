"""Lazy pixmaps of an affine map, for synthetic exposures of a mosaic."""

import math

import numpy as np
from dask.base import tokenize

from .._engine._planning import normalize_tile_chunks
from .._engine._validation import as_float
from ._checks import check_float_dtype, check_pair, check_shape, real_array
from ._grid import tile_graph


def _affine_tile(matrix, offset, y0, y1, x0, x1, dtype):
    """Affine pixmap of rows ``y0:y1``, columns ``x0:x1``; one dask task."""
    y = np.arange(y0, y1, dtype=np.float64)[:, None]
    x = np.arange(x0, x1, dtype=np.float64)[None, :]
    (a, b), (c, d) = matrix
    out = np.empty((y1 - y0, x1 - x0, 2), dtype=dtype)
    out[..., 0] = a * x + b * y + offset[0]
    out[..., 1] = c * x + d * y + offset[1]
    return out


def _affine_parameters(shape, matrix, offset, rotation, scale, shift, center):
    """``(matrix, offset)`` as nested tuples of floats, from either parametrisation."""
    rotation = as_float("rotation", rotation, finite=True)
    scale = as_float("scale", scale, finite=True, positive=True)
    shift = check_pair("shift", shift)
    offset = check_pair("offset", offset)
    geometric = rotation != 0.0 or scale != 1.0 or shift.any() or center is not None
    if geometric and (matrix is not None or offset.any()):
        raise ValueError("give either matrix/offset or rotation/scale/shift/center, not both")
    if not geometric:
        matrix = np.eye(2) if matrix is None else real_array("matrix", matrix, "a 2 x 2 array")
        if matrix.shape != (2, 2):
            raise ValueError(f"matrix must be 2 x 2, got shape {matrix.shape}")
    else:
        theta = math.radians(rotation)
        cos, sin = math.cos(theta), math.sin(theta)
        matrix = scale * np.array([[cos, -sin], [sin, cos]])
        if center is None:
            center = ((shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0)
        center = check_pair("center", center)
        # p' = M (p - c) + c + shift = M p + (c + shift - M c)
        offset = center + shift - matrix @ center
    if not np.isfinite(matrix).all():
        raise ValueError(f"the affine matrix must be finite, got {matrix.tolist()}")
    return tuple(map(tuple, matrix.tolist())), tuple(offset.tolist())


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
    shape = check_shape(shape)
    dtype = check_float_dtype(dtype)
    matrix, offset = _affine_parameters(shape, matrix, offset, rotation, scale, shift, center)
    blocks = normalize_tile_chunks(chunks, shape)
    name = f"affine_pixmap-{tokenize(shape, matrix, offset, blocks, dtype)}"
    return tile_graph(name, _affine_tile, blocks, dtype, before=(matrix, offset), after=(dtype,))
