"""The few array types the entry points are compiled for.

numba compiles a function once per combination of argument types, and an
array's type includes its dtype, byte order, layout *and* whether it is
writeable. Left alone, a float32 patch that is big-endian (FITS), strided (a
slice) or read-only (zarr, dask-distributed) would each compile the whole pixel
loop again. So before any entry point runs, its inputs are brought to:

- patch: native float32 or float64, C-contiguous, read-only;
- pixmap: native float32 or float64, C-contiguous, read-only, with the origin
  ``(j0, i0)`` of the rectangle the kernel reads in it: a tile sliced out of a
  larger C-ordered pixmap in memory is read in place, in its parent, rather
  than copied (the copy cost up to a fifth of a nearest or linear tile);
- state: native float64, C-contiguous, read-only;
- out: native float32, C-contiguous, writeable (it is written in place, so it
  is checked, never copied).

Read-only is the canonical flag because it can always be had without a copy
(a read-only view of a writeable array); the compiled code reads a read-only
array exactly as a writeable one. Copies happen only for another dtype, byte
order or layout.
"""

import mmap

import numpy as np

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)
_PAGE_ITEMS = max(1, mmap.PAGESIZE // _FLOAT32.itemsize)


def _read_only(array):
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


def window_dtype(dtype, drizzle):
    """float32 for drizzle; for high, float32 if ``dtype`` is a float of at most 32 bits.

    float32 holds every value of a 16- or 32-bit float exactly, in either byte
    order; everything else (float64, integers, ...) is read as float64.
    """
    dtype = np.dtype(dtype)
    if drizzle or (dtype.kind == "f" and dtype.itemsize <= 4):
        return _FLOAT32
    return _FLOAT64


def pixmap_dtype(dtype):
    """float32 for a pixmap of floats of at most 32 bits (exact), float64 for anything else."""
    dtype = np.dtype(dtype)
    return _FLOAT32 if dtype.kind == "f" and dtype.itemsize <= 4 else _FLOAT64


def canonical_patch(patch, drizzle):
    """``patch`` as a read-only, C-contiguous float32/float64 array (copies only if needed)."""
    patch = np.asarray(patch)
    if patch.ndim != 2:
        raise ValueError(f"patch must be 2-D, got shape {patch.shape}")
    patch = np.ascontiguousarray(patch, dtype=window_dtype(patch.dtype, drizzle))
    return _read_only(patch)


def _check_pixmap_shape(pixmap):
    if pixmap.ndim != 3 or pixmap.shape[2] != 2:
        raise ValueError(f"pixmap must have shape (ny, nx, 2), got {pixmap.shape}")


def canonical_pixmap(pixmap):
    """``pixmap`` as a read-only, C-contiguous float32 (if it was) or float64 array."""
    pixmap = np.asarray(pixmap)
    _check_pixmap_shape(pixmap)
    return _read_only(np.ascontiguousarray(pixmap, dtype=pixmap_dtype(pixmap.dtype)))


def pixmap_in_place(pixmap):
    """``(parent, j0, i0)`` if the kernels can read ``pixmap`` where it lies, else ``None``.

    ``pixmap`` (an array of shape ``(ny, nx, 2)``) is then
    ``parent[j0 : j0 + ny, i0 : i0 + nx]`` of a canonical (read-only,
    C-contiguous, native float32/float64) ``parent``: either ``pixmap``
    itself at ``(0, 0)``, or the memory of the C-ordered array it is a
    rectangular view of (numpy's ``base``: a dask block of a pixmap in memory,
    a row band, a slice), seen as rows of that view's length. Anything else
    (another dtype, byte order or layout) needs a copy.
    """
    pixmap = np.asarray(pixmap)
    _check_pixmap_shape(pixmap)
    if pixmap.dtype != pixmap_dtype(pixmap.dtype):
        return None
    if pixmap.flags.c_contiguous:
        return _read_only(pixmap), 0, 0
    base = pixmap.base
    itemsize = pixmap.itemsize
    row, column, coordinate = pixmap.strides
    if not (isinstance(base, np.ndarray) and base.flags.c_contiguous and base.dtype == pixmap.dtype
            and coordinate == itemsize and column == 2 * itemsize and row > 0
            and row % column == 0):
        return None
    # The view's place in the memory of the array it was sliced from, in whole
    # rows and columns (always so for a basic slice; checked, since a view can
    # also be made by hand).
    offset = pixmap.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    j0, rest = divmod(offset, row)
    i0, rest = divmod(rest, column)
    ny, nx = pixmap.shape[:2]
    rows, columns = base.nbytes // row, row // column
    if rest or offset < 0 or j0 + ny > rows or i0 + nx > columns:
        return None
    # ``base`` may have any shape (a reshaped array's is 1-D): its memory as rows.
    parent = base.reshape(-1)[: rows * columns * 2].reshape(rows, columns, 2)
    return _read_only(parent), int(j0), int(i0)


def canonical_pixmap_rect(pixmap):
    """``(parent, j0, i0)`` as :func:`pixmap_in_place` gives, copying ``pixmap`` if it must."""
    found = pixmap_in_place(pixmap)
    return found if found is not None else (canonical_pixmap(pixmap), 0, 0)


def canonical_state(state):
    """``state`` as a read-only, C-contiguous 1-D float64 array."""
    state = np.ascontiguousarray(state, dtype=_FLOAT64)
    if state.ndim != 1:
        raise ValueError(f"state must be 1-D, got shape {state.shape}")
    return _read_only(state)


def check_out(out, shape):
    """Raise unless ``out`` is a writeable, C-contiguous, native float32 array of ``shape``."""
    if not isinstance(out, np.ndarray) or out.dtype != _FLOAT32:
        raise TypeError(f"out must be a float32 numpy array, got {getattr(out, 'dtype', out)!r}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}; the pixmap needs {tuple(shape)}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be C-contiguous and writeable")
    return out


def map_pages(out):
    """Write once to each memory page of ``out`` (checked by :func:`check_out`) ahead of the kernel.

    A newly allocated output (a tile, or ``blot_image``'s result) is memory
    the operating system maps on its first write. Mapped from inside the pixel
    loops of nearest, linear and poly3, it cost them 29 to 56 ms per 64 MB in
    the runs of ``benchmarks/bench_output_memory.py`` (a 4096 x 4096 output on
    one thread: nearest 121 ms instead of 82, then 93 instead of 61); mapped
    here first, 6.5 ms, and 0.1 ms when it is mapped already. The kernel
    overwrites every value written here.
    """
    flat = out.reshape(-1)
    flat[::_PAGE_ITEMS] = 0
    # An output that starts inside a page can end on a page no stride lands on.
    flat[-1:] = 0
