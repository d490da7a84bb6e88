"""The job plan: one exposure's blot, validated and frozen.

A :class:`BlotPlan` is made once per exposure, by
:func:`tileblot._api._plan.plan_blot`, and handed down: the graph is built
from it, the output store records :meth:`BlotPlan.record`, and nothing below
the facades validates or converts an argument again.
"""

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ._planning import Window
from ._tile import BlotParams


@dataclass(frozen=True)
class Input:
    """A validated input (the data or the pixmap) and how it is recognised.

    Attributes
    ----------
    array : object
        What tasks read from: a numpy or zarr array, a file wrapper that
        reopens on each worker, any sliceable array-like, or a dask array.
        For the pixmap of a plan, always a dask array chunked by the plan's
        tiling.
    shape : tuple of int
    dtype : numpy.dtype
    identity : Mapping
        Location, metadata and change stamp, JSON-ready
        (see :mod:`tileblot._io._identity`).
    token : str
        A short deterministic digest of ``identity``, for graph names.
    """

    array: object = field(repr=False, compare=False)
    shape: tuple
    dtype: np.dtype
    identity: Mapping = field(repr=False)
    token: str

    @property
    def is_dask(self):
        """Whether the input is itself lazy (a dask array)."""
        from dask.base import is_dask_collection

        return is_dask_collection(self.array)


@dataclass(frozen=True)
class Tiling:
    """How the output is cut into tiles: block lengths per axis, dask-style.

    Attributes
    ----------
    chunks : tuple of tuple of int
        ``(row lengths, column lengths)``, covering the output exactly.
    """

    chunks: tuple

    @property
    def shape(self):
        """``(ny, nx)`` of the output."""
        return tuple(int(sum(c)) for c in self.chunks)

    @property
    def grid(self):
        """``(tile rows, tile columns)``."""
        return tuple(len(c) for c in self.chunks)

    @property
    def ntiles(self):
        """Number of tiles."""
        return self.grid[0] * self.grid[1]

    @property
    def tile(self):
        """``(cy, cx)``: the first tile's size, which every tile has in a regular tiling."""
        return self.chunks[0][0], self.chunks[1][0]

    @property
    def regular(self):
        """Whether every tile but the last of each axis has the first tile's size (zarr's grid)."""
        return all(
            all(c == blocks[0] for c in blocks[:-1]) and blocks[-1] <= blocks[0]
            for blocks in self.chunks
        )

    def slices(self):
        """Per-axis lists of slices, one per tile row and tile column."""
        from dask.array.core import slices_from_chunks

        rows = [s[0] for s in slices_from_chunks((self.chunks[0],))]
        cols = [s[0] for s in slices_from_chunks((self.chunks[1],))]
        return rows, cols


@dataclass(frozen=True)
class TileWindows:
    """Every tile's window, planned ahead from the pixmap alone.

    Attributes
    ----------
    hits : (nty, ntx) bool array
        Whether any coordinate of the tile falls on the image.
    bounds : (nty, ntx, 4) int64 array
        ``(y0, y1, x0, x1)`` of each tile's window; meaningless where
        ``hits`` is False.
    """

    hits: np.ndarray = field(repr=False, compare=False)
    bounds: np.ndarray = field(repr=False, compare=False)

    def window(self, ty, tx):
        """The :class:`~tileblot._engine._planning.Window` of tile ``(ty, tx)``, or ``None``."""
        if not self.hits[ty, tx]:
            return None
        return Window(*(int(v) for v in self.bounds[ty, tx]))


@dataclass(frozen=True)
class BlotPlan:
    """One exposure's blot: inputs, tiling and parameters, all validated.

    Attributes
    ----------
    data : Input
        The mosaic.
    pixmap : Input
        The pixmap; ``pixmap.array`` is a dask array chunked by ``tiling``
        (plus ``(2,)`` on the last axis).
    tiling : Tiling
        Output tiles.
    params : BlotParams
        Interpolator, fill value, scale, precision, interpolator options.
    windows : TileWindows or None
        Every tile's window, when planned ahead (dask-array data, whose
        tasks must be wired to the data blocks they read); ``None`` when each
        tile finds its window itself.
    """

    data: Input
    pixmap: Input
    tiling: Tiling
    params: BlotParams
    windows: TileWindows | None = None

    @property
    def data_shape(self):
        """``(H, W)`` of the mosaic."""
        return self.data.shape

    @property
    def shape(self):
        """``(ny, nx)`` of the output."""
        return self.tiling.shape

    @property
    def token(self):
        """A deterministic name for this blot (equal plans, equal graph keys)."""
        from dask.base import tokenize

        # The fill value's bits too: NaN and -NaN are one value to tokenize, two fills.
        return tokenize(self.data.token, self.pixmap.token, self.tiling.chunks,
                        self.params.as_attrs(), struct.pack("<d", self.params.fillval))

    def record(self):
        """What an output store keeps of the plan (JSON-ready), to recognise it on resume."""
        return {
            "params": self.params.as_attrs(),
            "shape": list(self.shape),
            "chunks": list(self.tiling.tile),
            "data": dict(self.data.identity),
            "pixmap": dict(self.pixmap.identity),
        }
