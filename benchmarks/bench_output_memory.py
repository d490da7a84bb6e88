"""What an output's memory costs: new arrays, tiles, and ``blot(...).compute()`` task by task.

On the in-memory scene of ``bench_dask_overhead.py`` (a ``--size`` square exposure from
an image 1.6 times its side, ``precision="high"``), one thread, the script times in
interleaved rounds (best of ``--repeat`` kept):

- ``tileblot.blot_image`` into a preallocated array (``into out``), into a new array
  (``new``), and into a new array with the kernels' page mapping turned off for the
  call (``new, unmapped``: the kernels' call of
  ``tileblot._kernels._canonical.map_pages`` replaced by a no-op, to show what mapping
  the output's pages before the pixel loop saves);
- the same image cut into ``--tile`` square tiles, each blotted by ``blot_image`` on
  its view of the pixmap, into one reused tile array (``tiles, reused``) or each into
  a new array (``tiles, new``), which is what a dask task returns;
- ``blot(...).compute()`` on dask's synchronous scheduler, with the time of each task
  recorded by a dask callback: the tile tasks together, the final concatenation of the
  tiles into the result (the ``finalize`` task), and the rest (the pixmap's tasks and
  dask's own work: the call's time less those two), for the fastest call.

Run::

    python benchmarks/bench_output_memory.py                  # 4096^2, five interpolators
    python benchmarks/bench_output_memory.py --interp nearest --repeat 15
"""

import argparse
import json
import math
import time
from functools import partial

import dask
import numpy as np
from _common import best_interleaved, rotated_scene, tile_slices
from dask.callbacks import Callback

import tileblot
from tileblot._kernels import _registry


class _TaskTimes(Callback):
    """Seconds spent in the tasks of each kind (the key's name up to its first dash)."""

    def __init__(self):
        super().__init__()
        self.started = {}
        self.seconds = {}

    def _pretask(self, key, dsk, state):
        self.started[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, id):
        name = key[0] if isinstance(key, tuple) else key
        kind = str(name).split("-")[0]
        self.seconds[kind] = (self.seconds.get(kind, 0.0)
                              + time.perf_counter() - self.started.pop(key))


def _unmapped(call):
    """``call`` with the kernels' page mapping turned off while it runs."""

    def run():
        mapping = _registry.map_pages
        _registry.map_pages = lambda out: None
        try:
            return call()
        finally:
            _registry.map_pages = mapping

    return run


def _tiles(data, pixmap, tile, reused, **kwargs):
    """Every tile blotted on its own, into ``reused`` or, if ``None``, each into a new array."""
    blocks = []
    for index in tile_slices(pixmap.shape[:2], tile):
        view = pixmap[index]
        out = None
        if reused is not None:  # the start of the reused array, C-contiguous at any shape
            h, w = view.shape[:2]
            out = reused.reshape(-1)[: h * w].reshape(h, w)
        blocks.append(tileblot.blot_image(data, view, out_img=out, num_threads=1, **kwargs))
    return blocks if reused is None else None


def _compute_by_task(lazy, repeat):
    """The fastest of ``repeat`` computes: ``(seconds, tile tasks, concatenation, rest)``."""
    best = (math.inf, 0.0, 0.0, 0.0)
    for _ in range(repeat):
        times = _TaskTimes()
        start = time.perf_counter()
        with times, dask.config.set(scheduler="synchronous"):
            lazy.compute()
        seconds = time.perf_counter() - start
        if seconds < best[0]:
            tiles = times.seconds.get("blot", 0.0)
            joined = times.seconds.get("finalize", 0.0)
            best = (seconds, tiles, joined, seconds - tiles - joined)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="output side (pixels)")
    parser.add_argument("--tile", type=int, default=1024, help="tile side (pixels)")
    parser.add_argument("--interp", nargs="+",
                        default=["nearest", "linear", "poly3", "poly5", "lan3"])
    parser.add_argument("--repeat", type=int, default=9,
                        help="interleaved rounds; the best of each call is kept")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    data, pixmap = rotated_scene(args.size)
    out = np.empty(pixmap.shape[:2], dtype=np.float32)
    reused = np.empty((args.tile, args.tile), dtype=np.float32)
    print(f"output {args.size}^2 from {data.shape[0]}^2 float32, {args.tile}^2 tiles, one "
          f"thread, precision=high; milliseconds, best of {args.repeat}")
    header = (f"{'interp':7} {'into out':>9} {'new':>7} {'new, unmapped':>14} "
              f"{'tiles, reused':>14} {'tiles, new':>11} {'compute':>8} {'tile tasks':>11} "
              f"{'concat':>7} {'rest':>6}")
    print(header)
    print("-" * len(header))
    rows = []
    for interp in args.interp:
        kwargs = dict(interp=interp, precision="high")
        tileblot.blot_image(data, pixmap[:64, :64], **kwargs)  # compile outside the timings
        new = partial(tileblot.blot_image, data, pixmap, num_threads=1, **kwargs)
        calls = {
            "into out": partial(tileblot.blot_image, data, pixmap, out_img=out, num_threads=1,
                                **kwargs),
            "new": new,
            "new, unmapped": _unmapped(new),
            "tiles, reused": partial(_tiles, data, pixmap, args.tile, reused, **kwargs),
            "tiles, new": partial(_tiles, data, pixmap, args.tile, None, **kwargs),
        }
        best = best_interleaved(calls, args.repeat)
        lazy = tileblot.blot(data, pixmap, chunks=args.tile, **kwargs)
        computed, tiles, joined, rest = _compute_by_task(lazy, args.repeat)
        row = {"interp": interp, **best, "compute": computed,
               "tile tasks": tiles, "concat": joined, "rest": rest}
        rows.append(row)
        print(f"{interp:7} {1e3 * best['into out']:9.1f} {1e3 * best['new']:7.1f} "
              f"{1e3 * best['new, unmapped']:14.1f} {1e3 * best['tiles, reused']:14.1f} "
              f"{1e3 * best['tiles, new']:11.1f} {1e3 * computed:8.1f} {1e3 * tiles:11.1f} "
              f"{1e3 * joined:7.1f} {1e3 * rest:6.1f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
