"""Dask overhead and core scaling of the tiled engine, on in-memory inputs.

Compares, on the same numpy data and pixmap, the eager ``tileblot.blot_image``
(one band per thread, no dask, writing into one output array) with the lazy
``tileblot.blot`` (one dask task per output tile, threaded scheduler), for
several tile sizes and thread counts, two ways:

- ``store``: ``dask.array.store`` of the tiles into a preallocated array, the
  like-for-like comparison with ``blot_image`` (and what ``blot_to_zarr``
  does, tile by tile, into zarr);
- ``compute``: ``.compute()``, which returns a new array (dask concatenates the
  tiles into it), against ``blot_image`` returning a new array too (``blot_image
  new``): both then pay for the output's fresh memory (the page faults of 64 MB
  took 12 ms with transparent huge pages, 60 ms without), which the first pair
  does not.

Also ``blot_to_zarr`` on the same numpy inputs into an in-memory zarr store
(``to_zarr``): on top of ``store`` it identifies each input once (one fast
hash of each array) and encodes the tiles with tileblot's codec.

And, to tell dask's own cost from the cost of cutting the output into tiles,
the same tiles without dask: a plain thread pool calls ``blot_image`` on each
tile's pixmap into a new tile array, then copies it into the preallocated
array (``tiles, copied``: what ``store``'s tasks do) or concatenates the tiles
into a new array as dask does (``tiles, joined``: what ``compute`` does). Any
chunked result pays that copy of every tile, dask or not; ``blot`` over the
no-dask tiles is dask's own overhead. And the same tiles, each blotted into one
buffer per thread that its next tile reuses (``tiles, in place``): the kernel's
work on the tiles alone, no memory per tile and no copy, which no tiled result
can go below (at 1024^2 tiles, the memory-bound nearest and linear read the
pixmap in shorter runs and the image in less local order than row by row).

The eight are timed in interleaved rounds (``--repeat``, best of each kept), so
that load from other processes, which comes and goes on a shared machine,
hits them alike.

The overhead goal is "within 10% at 1024^2 tiles", for every interpolator,
on one thread and on all.

Run::

    python benchmarks/bench_dask_overhead.py                 # 4096^2 output, every interp
    python benchmarks/bench_dask_overhead.py --size 2048 --interp linear lan3 --tiles 512 1024
"""

import argparse
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import dask
import dask.array as da
import numpy as np
from _common import best_interleaved, rotated_scene, tile_slices
from dask.array.core import concatenate3
from zarr.storage import MemoryStore

import tileblot


def _tiles_no_dask(data, pixmap, tile, threads, way, out=None, **kwargs):
    """Each tile blotted on its own by a pool of ``threads``, as dask's tasks do, ``way``:

    - ``"in place"``: into one buffer per thread, reused by its next tile and
      then dropped: the kernel's work on the tiles alone, with no memory per
      tile and no copy (what no tiled result can go below);
    - ``"copied"``: into a new array, then copied into ``out`` by its thread
      (dask's ``store``);
    - ``"joined"``: into a new array, all joined into a new array once all are
      done (dask's ``compute``).
    """
    slices = tile_slices(pixmap.shape[:2], tile)
    local = threading.local()

    def one(index):
        tile_pixmap = pixmap[index]
        if way == "in place":
            buffer = getattr(local, "buffer", None)
            if buffer is None or buffer.shape != tile_pixmap.shape[:2]:
                buffer = local.buffer = np.zeros(tile_pixmap.shape[:2], np.float32)
            tileblot.blot_image(data, tile_pixmap, num_threads=1, out_img=buffer, **kwargs)
            return None
        block = tileblot.blot_image(data, tile_pixmap, num_threads=1, **kwargs)
        if way == "copied":
            out[index] = block
            return None
        return block

    with ThreadPoolExecutor(threads) as pool:
        blocks = list(pool.map(one, slices))
    if way != "joined":
        return out
    ntx = len(range(0, pixmap.shape[1], tile))
    return concatenate3([blocks[k : k + ntx] for k in range(0, len(blocks), ntx)])


def _on_threads(threads, fn):
    """``fn`` run on dask's threaded scheduler with ``threads`` workers."""

    def run():
        with dask.config.set(scheduler="threads", num_workers=threads):
            return fn()

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="output side (pixels)")
    parser.add_argument("--interp", nargs="+", default=list(tileblot.INTERPOLATORS))
    parser.add_argument("--tiles", type=int, nargs="+", default=[1024])
    parser.add_argument("--repeat", type=int, default=5,
                        help="interleaved rounds of all the calls; the best of each is kept")
    parser.add_argument("--precision", default="high", choices=tileblot.PRECISIONS)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    cores = len(os.sched_getaffinity(0))
    data, pixmap = rotated_scene(args.size)
    mpix = args.size * args.size / 1e6
    rows = []
    print(f"output {args.size}^2 from {data.shape[0]}^2 float32, {cores} cores, "
          f"precision={args.precision}, best of {args.repeat}; Mpix/s, and in brackets the "
          f"time over blot_image's (in place, store, copied, to_zarr) or blot_image new's "
          f"(compute, joined); 'dask' is blot over the same tiles without dask")
    header = (
        f"{'interp':7} {'thr':>3} {'tile':>5} {'blot_image':>10} {'tiles, in place':>16} "
        f"{'store':>16} "
        f"{'tiles, copied':>16} {'dask':>7} {'new':>7} {'compute':>16} "
        f"{'tiles, joined':>16} {'dask':>7} {'to_zarr':>16}"
    )
    print(header)
    print("-" * len(header))

    def cell(seconds, reference):
        return f"{mpix / seconds:7.1f} ({100 * (seconds / reference - 1):+6.1f}%)"

    for interp in args.interp:
        kwargs = dict(interp=interp, precision=args.precision)
        tileblot.blot_image(data, pixmap[:64], **kwargs)  # compile outside the timing
        tileblot.blot(data, pixmap[:64], chunks=32, **kwargs).compute()
        out = np.empty(pixmap.shape[:2], dtype=np.float32)
        for threads in sorted({1, cores}):
            calls = {
                "eager": partial(tileblot.blot_image, data, pixmap, out_img=out,
                                 num_threads=threads, **kwargs),
                "eager new": partial(tileblot.blot_image, data, pixmap, num_threads=threads,
                                     **kwargs),
            }
            on_dask = partial(_on_threads, threads)
            for tile in args.tiles:
                lazy = tileblot.blot(data, pixmap, chunks=tile, **kwargs)
                calls[tile, "store"] = on_dask(partial(da.store, lazy, out, lock=False))
                calls[tile, "in place"] = partial(_tiles_no_dask, data, pixmap, tile, threads,
                                                  "in place", **kwargs)
                calls[tile, "copied"] = partial(_tiles_no_dask, data, pixmap, tile, threads,
                                                "copied", out, **kwargs)
                calls[tile, "compute"] = on_dask(lazy.compute)
                calls[tile, "joined"] = partial(_tiles_no_dask, data, pixmap, tile, threads,
                                                "joined", **kwargs)
                calls[tile, "to_zarr"] = on_dask(partial(
                    tileblot.blot_to_zarr, data, pixmap, MemoryStore(), chunks=tile,
                    overwrite=True, progress=False, **kwargs))
            best = best_interleaved(calls, args.repeat)
            eager, eager_new = best["eager"], best["eager new"]
            for tile in args.tiles:
                in_place, stored, copied, computed, joined, to_zarr = (
                    best[tile, way] for way in ("in place", "store", "copied", "compute",
                                                "joined", "to_zarr"))
                rows.append(dict(interp=interp, threads=threads, tile=tile,
                                 blot_image_s=eager, blot_image_new_s=eager_new,
                                 tiles_in_place_s=in_place,
                                 blot_store_s=stored, tiles_copied_s=copied,
                                 blot_compute_s=computed, tiles_joined_s=joined,
                                 blot_to_zarr_s=to_zarr,
                                 in_place_overhead=in_place / eager - 1,
                                 store_overhead=stored / eager - 1,
                                 copied_overhead=copied / eager - 1,
                                 store_dask_overhead=stored / copied - 1,
                                 compute_overhead=computed / eager_new - 1,
                                 joined_overhead=joined / eager_new - 1,
                                 compute_dask_overhead=computed / joined - 1,
                                 to_zarr_overhead=to_zarr / eager - 1))
                print(f"{interp:7} {threads:3d} {tile:5d} {mpix / eager:10.1f} "
                      f"{cell(in_place, eager)} {cell(stored, eager)} {cell(copied, eager)} "
                      f"{100 * (stored / copied - 1):+6.1f}% {mpix / eager_new:7.1f} "
                      f"{cell(computed, eager_new)} {cell(joined, eager_new)} "
                      f"{100 * (computed / joined - 1):+6.1f}% {cell(to_zarr, eager)}",
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
