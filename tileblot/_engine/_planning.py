"""Planning: tile grids, coordinate bounding boxes, halos, windows.

A tile of the output reads only its *window* of the data: the bounding box of
its finite, on-image coordinates, padded by the interpolator's halo and
clipped to the image. Nothing here reads zarr or builds a graph (dask lends
only its ``normalize_chunks``); the one numeric scan (the bounding box)
borrows the kernels' own loop so both round alike.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .._kernels import _canonical
from .._kernels._loop import onimage_bbox

DEFAULT_TILE = 1024


def window_dtype(data_dtype, precision):
    """dtype the kernels read data in for ``precision`` (the rule is the kernels')."""
    return _canonical.window_dtype(data_dtype, precision == "drizzle")


def prepare_window(window, precision):
    """A window in the kernels' layout and dtype for ``precision`` (copies only if needed)."""
    return _canonical.canonical_patch(window, precision == "drizzle")


@dataclass(frozen=True)
class Window:
    """A rectangle of the data: rows ``y0:y1``, columns ``x0:x1`` (half-open)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def slices(self):
        """``(slice(y0, y1), slice(x0, x1))``, to index the data with."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self):
        return self.y1 - self.y0, self.x1 - self.x0


def coordinate_bbox(pixmap, shape, precision):
    """Bounding box of the on-image coordinates of a pixmap tile.

    Parameters
    ----------
    pixmap : (ny, nx, 2) array
        Coordinates ``(x, y)`` (any float array; read in place where the kernels can).
    shape : (int, int)
        ``(H, W)`` of the full image.
    precision : {"drizzle", "high"}
        Rounding the kernels apply to the coordinates.

    Returns
    -------
    tuple of int or None
        ``(iy_min, iy_max, ix_min, ix_max)``: floors of the extreme on-image
        coordinates, or ``None`` if no coordinate falls on the image
        (``0 <= x < W`` and ``0 <= y < H``; NaN never does).
    """
    count, *bbox = onimage_bbox(pixmap, shape[0], shape[1], precision == "drizzle")
    return tuple(bbox) if count else None


def onimage_window(pixmap, shape, halo, precision):
    """``(count, window)``: how many coordinates of a pixmap tile fall on the image, and the
    :class:`Window` they need with ``halo`` (``None`` when ``count`` is 0).

    One scan, the kernels' own (see :mod:`tileblot._engine._coverage`).
    """
    count, *bbox = onimage_bbox(pixmap, shape[0], shape[1], precision == "drizzle")
    return int(count), (window_for(bbox, halo, shape) if count else None)


def window_for(bbox, halo, shape):
    """The :class:`Window` a kernel with ``halo`` needs for ``bbox``, clipped to the image."""
    iy_min, iy_max, ix_min, ix_max = bbox
    height, width = shape
    return Window(
        max(iy_min - halo, 0),
        min(iy_max + halo + 1, height),
        max(ix_min - halo, 0),
        min(ix_max + halo + 1, width),
    )


#: The most output tiles one job may have. Each tile is a few tasks (its pixmap block, the
#: blot, the write); at 10^5 tiles the graph holds some 3 x 10^5 tasks, whose scheduling alone
#: takes minutes (measured: ~6 ms per tiny tile on 2 busy cores, threaded), and the graph a few
#: hundred MB. A finer tiling than that is a mistake (``chunks=1``), never a useful job.
MAX_TILES = 100_000

def _positive_int(value):
    return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and value > 0)


def normalize_tile_chunks(chunks, shape, default=DEFAULT_TILE):
    """Turn ``chunks`` (None, int, (ny, nx) or dask-style tuples) into block sizes per axis.

    Returns a pair of tuples of block lengths covering ``shape`` exactly
    (dask's :func:`~dask.array.core.normalize_chunks`, behind checks that name
    the problem: dask reads 0 and -1 as special values, tileblot refuses them).
    Refuses more than :data:`MAX_TILES` tiles.
    """
    from dask.array.core import normalize_chunks

    if chunks is None:
        chunks = default
    if _positive_int(chunks):
        chunks = (int(chunks), int(chunks))
    if not isinstance(chunks, (tuple, list)) or len(chunks) != 2:
        raise ValueError(
            f"chunks must be an int, a pair (ny, nx) or per-axis block sizes, got {chunks!r}"
        )
    for axis, (c, n) in enumerate(zip(chunks, shape, strict=True)):
        if isinstance(c, (tuple, list)):
            odd = [b for b in c if not _positive_int(b)]
            if odd:
                raise ValueError(f"chunks {c!r} for axis {axis}: every block must be a "
                                 f"positive integer, got {odd[0]!r}")
            if sum(c) != n:
                raise ValueError(f"chunks {c!r} for axis {axis} do not partition length {n} "
                                 f"(they sum to {sum(c)})")
        elif not _positive_int(c):
            raise ValueError(f"chunk size must be a positive integer, got {c!r}")
    # Counted before dask lists the blocks: it took minutes (and gigabytes) to list those
    # of a 10^12-pixel side, and failed inside numpy for sides past 2^63.
    check_tile_count(math.prod(len(c) if isinstance(c, (tuple, list)) else -(-n // min(int(c), n))
                               for c, n in zip(chunks, shape, strict=True)), shape)
    blocks = normalize_chunks(
        tuple(tuple(int(b) for b in c) if isinstance(c, (tuple, list)) else min(int(c), n)
              for c, n in zip(chunks, shape, strict=True)),
        tuple(shape),
    )
    return tuple(tuple(int(b) for b in axis) for axis in blocks)


def check_tile_count(count, shape):
    """Refuse a tiling of ``count`` tiles over ``shape`` if more than :data:`MAX_TILES`,
    suggesting a tile size."""
    if count <= MAX_TILES:
        return
    side = 1024
    while -(-shape[0] // side) * -(-shape[1] // side) > MAX_TILES:
        side *= 2
    suggested = -(-shape[0] // side) * -(-shape[1] // side)
    raise ValueError(
        f"{count:,} tiles for an output of {shape[0]} x {shape[1]} pixels is more than "
        f"{MAX_TILES:,}, the most one job may have: use larger tiles (chunks), e.g. {side} "
        f"({suggested:,} tile{'s' * (suggested != 1)})"
    )


def block_window(pixmap_block, shape, halo, precision):
    """The :class:`Window` a pixmap tile reads with ``halo``, or ``None`` if it misses the image."""
    return onimage_window(pixmap_block, shape, halo, precision)[1]


def row_bands(nrows, nbands):
    """Split ``range(nrows)`` into at most ``nbands`` contiguous, nearly equal slices."""
    nbands = max(1, min(nbands, nrows))
    edges = np.linspace(0, nrows, nbands + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]
