"""One tile, start to finish: pixmap tile -> window -> kernel -> output tile.

The eager facade and every dask task call :func:`blot_tile`, so a tile is
computed the same way, bit for bit, whichever path produced it.
"""

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from .._kernels._canonical import pixmap_dtype, pixmap_in_place
from .._kernels._registry import Interpolator
from ._budget import counted_pieces
from ._planning import onimage_window, prepare_window


@dataclass(frozen=True)
class BlotParams:
    """Everything about a blot that is not data or pixmap.

    Attributes
    ----------
    interp : Interpolator
        Resolved interpolator (see :mod:`tileblot._kernels._registry`).
    fillval : float
        Value of output pixels that fall off the image.
    iscale : float
        Factor applied to every interpolated value.
    precision : {"drizzle", "high"}
        Arithmetic the kernels use.
    options : tuple of (str, float)
        The interpolator's own options, validated, as sorted pairs (sinc's
        ``sinscl``; empty for most): the registry says which an interpolator
        has and turns them into kernel state.
    """

    interp: Interpolator
    fillval: float
    iscale: float
    precision: str
    options: tuple[tuple[str, float], ...] = ()

    @property
    def drizzle(self):
        """Whether the kernels reproduce drizzle's float32 arithmetic."""
        return self.precision == "drizzle"

    def state(self):
        """Kernel constants; cheap, so built per call rather than shipped."""
        return self.interp.state(**dict(self.options))

    def as_attrs(self):
        """JSON-friendly record of the parameters (for zarr attributes)."""
        return {
            "interp": self.interp.name,
            "fillval": self.fillval,
            "iscale": self.iscale,
            "precision": self.precision,
            "options": dict(self.options),
        }


_scratch = threading.local()


@contextlib.contextmanager
def kernel_pixmap(pixmap_tile):
    """The tile's coordinates as the kernels can read them, without new memory per tile.

    A context manager. A tile sliced from a larger C-ordered pixmap in memory
    (a dask block of it) is given as it is: the kernels read it in place, in
    its parent (:func:`~tileblot._kernels._canonical.pixmap_in_place`). Any
    other tile (another dtype, byte order or layout) is copied, into one
    buffer per thread reused by its next tile of the same shape: copied into
    fresh memory, a tile cost as much as the linear kernel itself (measured:
    page faults on every new array). The copy never leaves the ``with``
    block, and the thread's buffer is its alone until the block ends: a tile
    computed on the same thread meanwhile (a window whose reading computes a
    dask graph of other tiles) gets another, rather than overwriting these
    coordinates under the kernel.
    """
    pixmap_tile = np.asarray(pixmap_tile)
    if pixmap_tile.ndim != 3 or pixmap_in_place(pixmap_tile) is not None:
        yield pixmap_tile  # read in place (or a shape the kernels will name)
        return
    target = pixmap_dtype(pixmap_tile.dtype)
    buffer, _scratch.pixmap = getattr(_scratch, "pixmap", None), None
    if buffer is None or buffer.shape != pixmap_tile.shape or buffer.dtype != target:
        buffer = np.empty(pixmap_tile.shape, dtype=target)
    np.copyto(buffer, pixmap_tile, casting="unsafe")  # exact: target holds every value
    try:
        yield buffer
    finally:
        _scratch.pixmap = buffer


class WholeImage:
    """A window reader for an image that is in memory whole, in the kernels' dtype and layout.

    The kernels work in global coordinates and read only what they
    interpolate, so such an image needs no window: :func:`blot_tile` hands it
    to the kernel as it is and skips the scan that finds a window (a second
    pass over the pixmap, a fifth of a nearest tile's time). Counting a
    tile's pixels on the image (:func:`blot_tile_counted`) still scans.
    """

    def __init__(self, image):
        self.image = image

    def __call__(self, window):
        return self.image, 0, 0


def blot_tile(read_window, pixmap_tile, shape, params, out=None, budget=None):
    """Blot one output tile.

    Parameters
    ----------
    read_window : callable
        ``read_window(window) -> (array, y0, x0)``: returns an array covering
        at least ``window`` (a :class:`~tileblot._engine._planning.Window`) and the
        global position of its first pixel. Called only if the tile touches
        the image. A :class:`WholeImage` is read without a window.
    pixmap_tile : (ny, nx, 2) array
        Coordinates of the tile's pixels in the full image.
    shape : (int, int)
        Shape of the full image.
    params : BlotParams
    out : (ny, nx) float32 array, optional
        Where to write; a new array if omitted.
    budget : int, optional
        Bytes the tile may hold at once (pixmap, output and window; see
        :mod:`tileblot._engine._budget`): a tile whose window would pass it is
        blotted in pieces, each reading its own window
        (:func:`~tileblot._engine._budget.pieces`).
        ``None``: one window for the whole tile (when reading costs no memory, as from an
        array already in memory).

    Returns
    -------
    numpy.ndarray
        float32, shape ``pixmap_tile.shape[:2]``.
    """
    if not (isinstance(read_window, WholeImage) and budget is None):
        return blot_tile_counted(read_window, pixmap_tile, shape, params, out, budget)[0]
    with kernel_pixmap(pixmap_tile) as pixmap:
        if out is None:
            out = np.empty(pixmap.shape[:2], dtype=np.float32)
        _kernel(params, read_window.image, 0, 0, shape, pixmap, out)
    return out


def _kernel(params, array, y0, x0, shape, pixmap, out):
    """The interpolator's kernel on ``array`` (at ``(y0, x0)`` of an image of ``shape``)."""
    params.interp.kernel(array, y0, x0, shape[0], shape[1], pixmap, out, params.fillval,
                         params.iscale, params.state(), params.drizzle)


def blot_tile_counted(read_window, pixmap_tile, shape, params, out=None, budget=None):
    """:func:`blot_tile`, and how many of the tile's pixels fall on the image.

    Returns
    -------
    (numpy.ndarray, int)
        The tile, and the number of its pixels the kernels interpolated
        rather than filled with ``fillval`` because they fall off the image
        (counted by the scan that finds the window: free; see
        :mod:`tileblot._engine._coverage`).
    """
    with kernel_pixmap(pixmap_tile) as pixmap:
        if out is None:
            out = np.empty(pixmap.shape[:2], dtype=np.float32)
        whole = (slice(0, pixmap.shape[0]), slice(0, pixmap.shape[1]))
        if budget is None:
            count, window = onimage_window(pixmap, shape, params.interp.halo, params.precision)
            found = [(*whole, window, count)]
        else:
            # Conservative: high precision may read float64 windows.
            itemsize = 4 if params.drizzle else 8
            found = counted_pieces(pixmap, shape, params.interp.halo, params.precision, budget,
                                   itemsize)
        for rows, cols, window, _ in found:
            if window is None:
                out[rows, cols] = np.float32(params.fillval)
                continue
            array, y0, x0 = read_window(window)
            array = prepare_window(array, params.precision)
            # The pixmap is read in place, like the tile. A band of whole rows is written
            # in place; a narrower piece goes through a small array (the kernels write
            # C-ordered ones).
            in_place = cols == whole[1]
            target = out[rows] if in_place else np.empty(
                (rows.stop - rows.start, cols.stop - cols.start), np.float32)
            _kernel(params, array, y0, x0, shape, pixmap[rows, cols], target)
            if not in_place:
                out[rows, cols] = target
            del array  # a piece's window is freed before the next is read
    return out, sum(count for *_, count in found)
