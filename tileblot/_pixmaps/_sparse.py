"""The ``stepsize`` grid: WCS values on global sparse nodes, bilinear in between.

The nodes are global (``0, s, 2s, ...`` plus the last pixel of the axis), so a
pixel is interpolated from the same four nodes whatever tile it is in: the
values do not depend on the tiling, and nothing is extrapolated.
"""

import numpy as np


def nodes(start, stop, length, stepsize):
    """Sparse-grid nodes covering pixels ``start .. stop - 1`` of an axis of ``length``.

    The nodes are the *global* grid ``0, s, 2s, ...`` plus the last pixel
    ``length - 1``, so every pixel is interpolated from the same nodes whatever
    the tiling, and never extrapolated.
    """
    lo = (start // stepsize) * stepsize
    hi = min(-(-(stop - 1) // stepsize) * stepsize, length - 1)
    grid = np.arange(lo, hi + 1, stepsize)
    if grid[-1] != hi:
        grid = np.append(grid, hi)
    return grid


def weights(pixels, grid):
    """For each pixel: its left and right node indices and the right node's weight.

    A pixel on a node takes that node alone (both indices), not the next one with a
    weight of 0: a tile that ends on the node has no next one, and a NaN there would
    make the pixel NaN (then evaluated exactly) in one tiling and not in another.
    """
    k0 = np.clip(np.searchsorted(grid, pixels, side="right") - 1, 0, grid.size - 1)
    k1 = np.where(pixels == grid[k0], k0, np.minimum(k0 + 1, grid.size - 1))
    span = (grid[k1] - grid[k0]).astype(np.float64)
    t = np.divide(pixels - grid[k0], span, out=np.zeros(pixels.size), where=span > 0)
    return k0, k1, t


def interpolate(values, ky, kx):
    """Bilinear interpolation of node ``values`` (Ny, Nx): x first, then y, per pixel."""
    kx0, kx1, tx = kx
    ky0, ky1, ty = ky
    along_x = values[:, kx0] * (1.0 - tx) + values[:, kx1] * tx
    return along_x[ky0] * (1.0 - ty)[:, None] + along_x[ky1] * ty[:, None]


#: How far (mosaic pixels) the interpolation may miss the exact value at the middle of a cell
#: or of a node line's segment before the cell or segment is evaluated exactly instead. The
#: bilinear error of a smooth WCS at the step JWST uses is about 1e-3 px; a jump (an all-sky
#: mosaic's RA seam) misses by at least a quarter of its size.
SMOOTH = 0.1

#: A cell or segment is checked only where its nodes span more than this many times what the
#: map's scale at the exposure's centre makes ``stepsize`` pixels span (plus a pixel): a jump
#: spans far more, a smooth map (its scale varying with its distortion) less.
SPREAD_MARGIN = 4.0


def middles(grid):
    """The middle of each span between consecutive nodes of ``grid`` (float)."""
    return (grid[:-1] + grid[1:]) / 2.0


def unsmooth(evaluate, values, node_rows, node_cols, ky, kx, bound=None):
    """Mask of the pixels whose nodes say nothing of them (to evaluate exactly), or ``None``.

    ``values`` are the ``(x, y)`` node values (two ``(Ny, Nx)`` arrays) of
    ``node_rows`` x ``node_cols``; ``ky`` and ``kx`` the pixels' weights
    (:func:`weights`). ``evaluate(x, y)`` gives the exact values at points.

    A cell, or a segment of a node line between two nodes, whose nodes span
    more than ``bound`` mosaic pixels (every one if ``bound`` is None) is
    checked at its middle: where the exact value there is more than
    :data:`SMOOTH` from the interpolated one (or undefined), the map jumps
    inside it, and its pixels (a segment's: those on it) are marked. A pixel
    belongs to one cell or one segment, the same in every tiling (as its
    interpolation), and the decision reads only global nodes and ``bound``, so
    the mask does not depend on the tiling either. ``None`` where no cell or segment is
    marked (the usual case: no mask is built).
    """
    node_x, node_y = values
    mid_rows, mid_cols = middles(node_rows), middles(node_cols)
    rows, cols = node_rows.astype(np.float64), node_cols.astype(np.float64)
    parts = [(mid_rows, mid_cols, _cell_corners), (rows, mid_cols, _row_ends),
             (mid_rows, cols, _column_ends)]
    bad = []
    for r, c, ends in parts:
        corners_x, corners_y = ends(node_x), ends(node_y)
        with np.errstate(invalid="ignore"):
            spread = np.maximum(np.ptp(corners_x, axis=0), np.ptp(corners_y, axis=0))
            suspect = spread > bound if bound is not None else np.ones(spread.shape, bool)
        suspect &= np.isfinite(spread)  # an undefined node: its pixels are evaluated anyway
        far = np.zeros(spread.shape, dtype=bool)
        if suspect.any():
            j, i = np.nonzero(suspect)
            ex, ey = evaluate(c[i], r[j])
            near_x = np.abs(ex - corners_x.mean(axis=0)[j, i]) <= SMOOTH
            near_y = np.abs(ey - corners_y.mean(axis=0)[j, i]) <= SMOOTH
            far[j, i] = ~(near_x & near_y)  # NaN is not near: undefined there
        bad.append(far)
    cells, row_segments, column_segments = bad
    if not (cells.any() or row_segments.any() or column_segments.any()):
        return None
    (ky0, ky1, _), (kx0, kx1, _) = ky, kx
    on_row, on_column = (ky0 == ky1)[:, None], (kx0 == kx1)[None, :]
    # Indices clipped where they do not apply (a cell index of a pixel on a node line).
    cy = np.minimum(ky0, max(len(mid_rows) - 1, 0))
    cx = np.minimum(kx0, max(len(mid_cols) - 1, 0))
    mask = np.zeros((ky0.size, kx0.size), dtype=bool)
    if cells.size:
        mask |= ~on_row & ~on_column & cells[cy[:, None], cx[None, :]]
    if row_segments.size:
        mask |= on_row & ~on_column & row_segments[ky0[:, None], cx[None, :]]
    if column_segments.size:
        mask |= ~on_row & on_column & column_segments[cy[:, None], kx0[None, :]]
    return mask


def _cell_corners(v):
    # A cell's four corners; bilinear interpolation at its middle is their mean.
    return np.stack([v[:-1, :-1], v[:-1, 1:], v[1:, :-1], v[1:, 1:]])


def _row_ends(v):
    return np.stack([v[:, :-1], v[:, 1:]])


def _column_ends(v):
    return np.stack([v[:-1, :], v[1:, :]])
