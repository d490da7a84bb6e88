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


def middles(grid):
    """The middle of each span between consecutive nodes of ``grid`` (float)."""
    return (grid[:-1] + grid[1:]) / 2.0


def unsmooth(evaluate, values, node_rows, node_cols, ky, kx):
    """Mask of the pixels whose nodes say nothing of them: those to evaluate exactly.

    ``values`` are the ``(x, y)`` node values (two ``(Ny, Nx)`` arrays) of
    ``node_rows`` x ``node_cols``; ``ky`` and ``kx`` the pixels' weights
    (:func:`weights`). ``evaluate(x, y)`` gives the exact values at points.

    Each cell, and each segment of a node line between two nodes, is checked
    at its middle: where the exact value there is more than :data:`SMOOTH`
    from the interpolated one (or undefined), the map jumps inside it, and
    its pixels (a segment's: those on it) are marked. A pixel belongs to one
    cell or one segment, the same in every tiling (as its interpolation), so
    the mask does not depend on the tiling either.
    """
    node_x, node_y = values
    mid_rows, mid_cols = middles(node_rows), middles(node_cols)
    rows, cols = node_rows.astype(np.float64), node_cols.astype(np.float64)
    # Cell middles, then the middles of node rows' and node columns' segments, with the
    # interpolation there.
    checks = [(mid_rows, mid_cols, _cell_middle), (rows, mid_cols, _row_middle),
              (mid_rows, cols, _column_middle)]
    points = [np.meshgrid(r, c, indexing="ij") for r, c, _ in checks]
    ends = np.cumsum([0] + [py.size for py, _ in points])
    ex = ey = np.empty(0)
    if ends[-1]:
        ex, ey = evaluate(np.concatenate([px.ravel() for _, px in points]),
                          np.concatenate([py.ravel() for py, _ in points]))
    bad = []
    for (py, _), (*_, middle), start, stop in zip(points, checks, ends[:-1], ends[1:],
                                                  strict=True):
        near_x = np.abs(ex[start:stop].reshape(py.shape) - middle(node_x)) <= SMOOTH
        near_y = np.abs(ey[start:stop].reshape(py.shape) - middle(node_y)) <= SMOOTH
        bad.append(~(near_x & near_y))  # NaN is not near: undefined there
    cells, row_segments, column_segments = bad
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


def _cell_middle(v):
    # Bilinear interpolation at a cell's middle: the mean of its four corners.
    return (v[:-1, :-1] + v[:-1, 1:] + v[1:, :-1] + v[1:, 1:]) / 4.0


def _row_middle(v):
    return (v[:, :-1] + v[:, 1:]) / 2.0


def _column_middle(v):
    return (v[:-1, :] + v[1:, :]) / 2.0
