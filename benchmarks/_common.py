"""What several benchmarks share: best-of timing and the synthetic zarr mosaic.

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
