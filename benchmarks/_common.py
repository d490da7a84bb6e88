"""What several benchmarks share: best-of timing, the in-memory scene and the zarr mosaic.

The benchmarks run as scripts (``python benchmarks/bench_x.py``), so this
folder is on ``sys.path`` and they import it as ``_common``.
"""

import math
import shutil
import time

import numpy as np
import zarr


def best_of(fn, repeat, clock=time.perf_counter):
    """The shortest time (seconds, wall clock by default) of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def best_interleaved(calls, repeat, clock=time.perf_counter):
    """The shortest time of each of ``calls`` (``{label: fn}``) over ``repeat`` rounds, each
    round calling every one in turn: load from other processes, which comes and goes, then
    hits them alike (timed one after the other, a method can land in a slow minute alone)."""
    best = dict.fromkeys(calls, math.inf)
    for _ in range(repeat):
        for label, call in calls.items():
            start = clock()
            call()
            best[label] = min(best[label], clock() - start)
    return best


def rotated_scene(size, seed=0):
    """An in-memory float32 image and the float64 pixmap of a ``size`` x ``size`` exposure.

    The image is 1.6 times the exposure's side; the exposure is rotated by 17
    degrees and scaled by 1.3 about the image's centre, so that its corners
    just leave the image.
    """
    import tileblot

    rng = np.random.default_rng(seed)
    side = int(size * 1.6)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    data = np.sin(x / 37.0) * np.cos(y / 23.0) + 0.1 * rng.standard_normal((side, side))
    pixmap = tileblot.affine_pixmap(
        (size, size), rotation=17.0, scale=1.3, shift=(side / 2 - size / 2, side / 2 - size / 2)
    ).compute()
    return data.astype(np.float32), pixmap


def tile_slices(shape, tile):
    """``(rows, columns)`` slices of the ``tile`` x ``tile`` tiles of ``shape``, row by row."""
    return [(slice(y, y + tile), slice(x, x + tile))
            for y in range(0, shape[0], tile) for x in range(0, shape[1], tile)]


def write_mosaic(path, side, chunk=1024, seed=0):
    """A smooth sky with noise in zarr (zarr's default codec), written strip by strip.

    Never whole in memory, so that it also makes mosaics larger than memory; a
    mosaic already at ``path`` with this shape and chunking is reused.
    """
    if path.exists():
        existing = zarr.open_array(path, mode="r")
        if existing.shape == (side, side) and existing.chunks == (chunk, chunk):
            return existing
        shutil.rmtree(path)
    mosaic = zarr.create_array(path, shape=(side, side), chunks=(chunk, chunk), dtype=np.float32)
    rng = np.random.default_rng(seed)
    x = np.arange(side, dtype=np.float32)
    for y0 in range(0, side, chunk):
        y = np.arange(y0, min(y0 + chunk, side), dtype=np.float32)[:, None]
        strip = np.sin(x / 97.0) * np.cos(y / 61.0) + 0.05 * rng.standard_normal((len(y), side))
        mosaic[y0 : y0 + len(y)] = strip.astype(np.float32)
    return mosaic
