"""Memory budget: how much a tile task may hold, pieces of a tile, and ``chunks="auto"``.

A tile task holds, at its peak, its pixmap tile, its output tile and the
window of data the kernel reads (plus, in the process, the chunk cache of
:mod:`tileblot._io._windows`, budgeted apart). The window grows with the
tile and with the pixmap's scale (mosaic pixels per exposure pixel): a
1000-pixel tile at a scale of 5 reads a 5000-pixel-wide window. So:

- :func:`task_budget` is what one task may hold. It follows dask: the
  ``tileblot.task-memory`` setting if given, else dask's ``array.chunk-size``
  (128 MiB by default), never more than an eighth of the memory a distributed
  worker has per thread (its ``memory_limit`` divided by its threads).
- :func:`pieces` splits a tile whose window would pass the budget into
  pieces, each with its own (smaller) window, halving along the longer side
  (a rotated exposure's window shrinks with both), down to single pixels,
  whose window is the stencil (two far-apart coordinates). Every output
  pixel is computed from the same global coordinates whichever window it is
  read from, so splitting never changes a bit.
- :func:`auto_tile` picks the tile side for ``chunks="auto"`` from the budget
  and the pixmap's local Jacobian.
- :func:`cache_budget` is what the process's cache of decoded chunks may
  hold: ``tileblot.chunk-cache`` if given, else an eighth of the worker's
  memory limit (without a worker: of the machine's memory), at most 1 GiB.

Nothing here reads a store or runs a kernel: sizes in, sizes out (the pieces' scan of a
tile's coordinates is :mod:`._planning`'s, which borrows the kernels' loop).
"""

import functools
import math
import sys

import numpy as np

from ._planning import onimage_window

#: Share of a worker's memory limit a task may take (per thread), and the share
#: the chunk cache may take: together at most a quarter with one thread, which
#: leaves the rest to Python and its libraries (about 150 MB), zarr's transient
#: buffers and the output's encoding, well below dask's spilling threshold
#: (``distributed.worker.memory.target``, 60%). Measured with
#: ``benchmarks/bench_out_of_core.py``.
WORKER_FRACTION = 0.125
#: Largest default chunk cache (a few rows of a mosaic's chunks are enough).
MAX_CACHE = 1 << 30
#: ``chunks="auto"`` tiles are multiples of this, between these bounds.
TILE_STEP, MIN_TILE, MAX_TILE = 128, 128, 4096


def _config_bytes(key):
    """dask's setting ``key`` in bytes (``None`` if unset); ``ValueError`` naming a bad one."""
    import dask
    from dask.utils import parse_bytes

    value = dask.config.get(key, None)
    if value is None:
        return None
    try:
        size = None if isinstance(value, bool) else int(
            parse_bytes(value) if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        size = None
    if size is None or size <= 0:
        raise ValueError(f"dask setting {key} must be a positive size in bytes (such as "
                         f"'64MiB' or 67108864), got {value!r}")
    return size


def check_settings():
    """``ValueError`` naming a memory setting that is not a positive size (read, not applied)."""
    for key in ("tileblot.task-memory", "tileblot.chunk-cache", "array.chunk-size"):
        _config_bytes(key)


def _worker_memory():
    """``(memory_limit, nthreads)`` of the distributed worker running this code, or ``None``."""
    if "distributed" not in sys.modules:  # no worker without it; and importing it costs 0.5 s
        return None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    limit = getattr(worker, "memory_limit", None) or getattr(
        getattr(worker, "memory_manager", None), "memory_limit", None
    )
    if not limit:
        return None
    return int(limit), max(1, int(worker.state.nthreads))


_HERE = object()


def task_budget(worker=_HERE):
    """Bytes one tile task may hold at once (see the module's docstring).

    Parameters
    ----------
    worker : (int, int) or None, optional
        ``(memory_limit, nthreads)`` of the worker to budget for (``None``:
        no worker); by default, the worker running this code, if any.

    Returns
    -------
    int
    """
    configured = _config_bytes("tileblot.task-memory")
    if configured is not None:
        return configured
    budget = _config_bytes("array.chunk-size") or (128 << 20)
    worker = _worker_memory() if worker is _HERE else worker
    if worker is not None:
        limit, nthreads = worker
        budget = min(budget, int(WORKER_FRACTION * limit / nthreads))
    return budget


def workers_task_budget(workers):
    """The task budget of the tightest of a cluster's ``workers``.

    ``workers``: the scheduler's description of each (``scheduler_info()["workers"]``).
    What a client sizes tiles with (``chunks="auto"``): its own process is no worker,
    and its budget says nothing of theirs. This process's budget if none has joined.
    """
    if not workers:
        return task_budget()
    return min(task_budget((int(w["memory_limit"]), max(1, int(w.get("nthreads") or 1)))
                           if w.get("memory_limit") else None)
               for w in workers.values())


def cache_budget(worker=_HERE):
    """Bytes this process's cache of decoded chunks may hold.

    Parameters
    ----------
    worker : (int, int) or None, optional
        As for :func:`task_budget`.

    Returns
    -------
    int
    """
    configured = _config_bytes("tileblot.chunk-cache")
    if configured is not None:
        return configured
    worker = _worker_memory() if worker is _HERE else worker
    memory = worker[0] if worker is not None else _machine_memory()
    return int(min(MAX_CACHE, WORKER_FRACTION * memory))


@functools.cache
def _machine_memory():
    # Read once: the cache asks for its budget on every use (see _io/_windows.py).
    try:
        import psutil

        return psutil.virtual_memory().total
    except ImportError:
        return 8 << 30


def tile_bytes(rows, cols, pixmap_itemsize, window_shape, window_itemsize):
    """Peak bytes of a task over ``rows x cols`` output pixels reading ``window_shape``."""
    return (rows * cols * (2 * pixmap_itemsize + 4)
            + int(np.prod(window_shape)) * window_itemsize)


def pieces(pixmap, shape, halo, precision, budget, window_itemsize):
    """Split a pixmap tile into pieces whose windows fit ``budget``.

    Parameters
    ----------
    pixmap : (ny, nx, 2) array
        The tile's coordinates, in a dtype the kernels read (float32 or float64).
    shape : (int, int)
        Shape of the full image.
    halo : int
        The interpolator's halo.
    precision : {"drizzle", "high"}
    budget : int
        Bytes a piece may hold (pixmap, output and window).
    window_itemsize : int
        Bytes per window pixel the kernel reads (4 or 8).

    Returns
    -------
    list of (slice, slice, Window or None)
        Rows and columns of each piece, covering the tile once, each with its
        window (``None`` where the piece misses the image). A single piece when
        the whole tile fits. The task holds the tile's own pixmap and output
        throughout, so a piece's window gets what the budget leaves (at least
        a quarter of it); a piece over it is halved along its longer side,
        down to a single pixel, kept whatever its window (the stencil: a
        budget below it cannot be met).
    """
    return [(rows, cols, window) for rows, cols, window, _ in
            counted_pieces(pixmap, shape, halo, precision, budget, window_itemsize)]


def counted_pieces(pixmap, shape, halo, precision, budget, window_itemsize):
    """:func:`pieces`, each with its count of on-image coordinates: ``(rows, cols, window,
    count)`` (from the same scan that finds the piece's window)."""
    ny, nx = pixmap.shape[:2]
    # The task holds its tile's pixmap and output throughout: a piece's window (and the
    # small array a part of a row is written to) gets what is left, at least a quarter.
    room = max(budget - tile_bytes(ny, nx, pixmap.itemsize, (0, 0), window_itemsize),
               budget // 4)
    found, todo = [], [(slice(0, ny), slice(0, nx))]
    while todo:
        rows, cols = todo.pop()
        count, window = onimage_window(pixmap[rows, cols], shape, halo, precision)
        nrows, ncols = rows.stop - rows.start, cols.stop - cols.start
        need = 0 if window is None else (
            window.shape[0] * window.shape[1] * window_itemsize
            + (0 if ncols == nx else 4 * nrows * ncols))
        if need <= room or nrows * ncols == 1:
            found.append((rows, cols, window, count))
            continue
        # Halved along its longer side: a rotated piece's window shrinks with both, and
        # bands of whole rows alone kept one row's window (a square of the mosaic at 45
        # degrees), read again by every run of columns of every row.
        if nrows >= ncols:
            middle = rows.start + nrows // 2
            halves = [(slice(rows.start, middle), cols), (slice(middle, rows.stop), cols)]
        else:
            middle = cols.start + ncols // 2
            halves = [(rows, slice(cols.start, middle)), (rows, slice(middle, cols.stop))]
        # Last half first: ``todo`` is a stack, so halves come out in order.
        todo += halves[::-1]
    return found


def pixmap_extent(jacobian):
    """Rows and columns of data one output pixel spans: ``(dy, dx)`` from a 2x2 Jacobian.

    ``jacobian[a][b]`` is the derivative of coordinate ``a`` (0: x, 1: y) along
    output axis ``b`` (0: rows, 1: columns). A tile of ``t x t`` output pixels
    covers about ``t * dy`` rows and ``t * dx`` columns of data.
    """
    jac = np.abs(np.asarray(jacobian, dtype=float))
    return float(jac[1].sum()), float(jac[0].sum())


def auto_tile(budget, extent, halo, pixmap_itemsize, window_itemsize):
    """Side of a square tile whose task fits ``budget``.

    Parameters
    ----------
    budget : int
        Bytes (see :func:`task_budget`).
    extent : (float, float)
        Data rows and columns per output pixel (see :func:`pixmap_extent`).
    halo : int
        The interpolator's halo.
    pixmap_itemsize, window_itemsize : int
        Bytes per pixmap coordinate and per window pixel.

    Returns
    -------
    int
        A multiple of 128 between 128 and 4096.
    """
    dy, dx = (max(float(e), 0.0) for e in extent)
    if not (math.isfinite(dy * dx) and math.isfinite(dy + dx)):
        return MIN_TILE  # a window as large as numbers go: the smallest tile
    per_pixel = 2 * pixmap_itemsize + 4
    # budget = t^2 * (per_pixel + dy dx w) + t * 2h (dy + dx) w + 4 h^2 w: the root in t.
    a = per_pixel + dy * dx * window_itemsize
    b = 2 * (halo + 1) * (dy + dx) * window_itemsize
    c = 4 * (halo + 1) ** 2 * window_itemsize - budget
    # The positive root written as -2c / (b + sqrt(...)): equal, and with a huge extent
    # (b * b overflowing to inf) it goes to 0, not to inf / inf.
    side = -2 * c / (b + math.sqrt(b * b - 4 * a * c)) if c < 0 else 0
    side = int(side) // TILE_STEP * TILE_STEP
    return int(min(MAX_TILE, max(MIN_TILE, side)))


def sampled_extent(pixmap):
    """Data rows and columns per output pixel, from a 2 x 2 patch of ``pixmap``.

    Reads four pixels (for a lazy pixmap, computes the one block that holds
    them): at the centre, else at the first corner where all four are finite
    and their differences too (a huge sentinel, as some pipelines write for
    "undefined", overflows them). Returns ``(1.0, 1.0)`` when no patch is.
    """
    ny, nx = pixmap.shape[:2]
    if ny < 2 or nx < 2:
        return 1.0, 1.0
    for j, i in ((ny // 2 - 1, nx // 2 - 1), (0, 0), (0, nx - 2), (ny - 2, 0), (ny - 2, nx - 2)):
        j, i = max(j, 0), max(i, 0)
        patch = np.asarray(pixmap[j : j + 2, i : i + 2], dtype=np.float64)
        if not np.isfinite(patch).all():
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            along_rows = patch[1, 0] - patch[0, 0]  # (dx, dy) per output row
            along_cols = patch[0, 1] - patch[0, 0]  # (dx, dy) per output column
            extent = pixmap_extent([[along_rows[0], along_cols[0]],
                                    [along_rows[1], along_cols[1]]])
        if all(math.isfinite(e) for e in extent):
            return extent
    return 1.0, 1.0
