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

The five are timed in interleaved rounds (``--repeat``, best of each kept), so
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
from functools import partial

import dask
import dask.array as da
import numpy as np
from _common import best_interleaved
from zarr.storage import MemoryStore

import tileblot


def _scene(size, seed=0):
    rng = np.random.default_rng(seed)
    side = int(size * 1.6)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    data = np.sin(x / 37.0) * np.cos(y / 23.0) + 0.1 * rng.standard_normal((side, side))
    pixmap = tileblot.affine_pixmap(
        (size, size), rotation=17.0, scale=1.3, shift=(side / 2 - size / 2, side / 2 - size / 2)
    ).compute()
    return data.astype(np.float32), pixmap




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
    data, pixmap = _scene(args.size)
    mpix = args.size * args.size / 1e6
    rows = []
    print(f"output {args.size}^2 from {data.shape[0]}^2 float32, {cores} cores, "
          f"precision={args.precision}, best of {args.repeat}")
    header = (
        f"{'interp':7} {'threads':>7} {'tile':>6} {'blot_image':>12} {'blot store':>12} "
        f"{'overhead':>9} {'blot_image new':>14} {'blot compute':>13} {'overhead':>9} "
        f"{'to_zarr':>9} {'overhead':>9}"
    )
    print(header)
    print("-" * len(header))
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
                calls[tile, "compute"] = on_dask(lazy.compute)
                calls[tile, "to_zarr"] = on_dask(partial(
                    tileblot.blot_to_zarr, data, pixmap, MemoryStore(), chunks=tile,
                    overwrite=True, progress=False, **kwargs))
            best = best_interleaved(calls, args.repeat)
            eager, eager_new = best["eager"], best["eager new"]
            for tile in args.tiles:
                stored, computed, to_zarr = (best[tile, way] for way in ("store", "compute",
                                                                          "to_zarr"))
                rows.append(dict(interp=interp, threads=threads, tile=tile,
                                 blot_image_s=eager, blot_image_new_s=eager_new,
                                 blot_store_s=stored, blot_compute_s=computed,
                                 blot_to_zarr_s=to_zarr,
                                 store_overhead=stored / eager - 1,
                                 compute_overhead=computed / eager_new - 1,
                                 to_zarr_overhead=to_zarr / eager - 1))
                print(f"{interp:7} {threads:7d} {tile:6d} {mpix / eager:8.1f} Mp/s "
                      f"{mpix / stored:8.1f} Mp/s {100 * (stored / eager - 1):+8.1f}% "
                      f"{mpix / eager_new:8.1f} Mp/s "
                      f"{mpix / computed:9.1f} Mp/s {100 * (computed / eager_new - 1):+8.1f}% "
                      f"{mpix / to_zarr:4.1f} Mp/s {100 * (to_zarr / eager - 1):+8.1f}%",
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
