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
