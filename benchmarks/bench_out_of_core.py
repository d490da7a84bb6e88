"""Out-of-core blot: a zarr mosaic bigger than the whole cluster's memory, zarr -> zarr.

Writes a synthetic float32 mosaic to zarr (default 3 GB), starts a
``LocalCluster`` whose total memory limit is smaller than the mosaic (default
2 workers x 700 MB), blots the mosaic onto a large rotated exposure grid with
``tileblot.blot_to_zarr`` straight from the store, and reports wall time,
Mpix/s and each worker's peak resident memory (sampled in each worker
process), which stays O(tile + window), independent of the mosaic's size.

Run::

    python benchmarks/bench_out_of_core.py                      # 3 GB mosaic, 2 x 700 MB
    python benchmarks/bench_out_of_core.py --mosaic-gb 0.5 --exposure 4096   # quick look
"""

import argparse
import json
import math
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import zarr
from distributed import Client, LocalCluster

import tileblot


def write_mosaic(path, side, chunk=1024, seed=0):
    """A smooth sky with noise, written strip by strip (never whole in memory)."""
    if path.exists():
        existing = zarr.open_array(path, mode="r")
        if existing.shape == (side, side):
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


def start_rss_sampler(dask_worker, interval=0.02):
    """On a worker: sample this process's resident memory in a thread, keep the peak.

    (``ru_maxrss`` is no use here: worker processes inherit the high-water mark
    of the process that started them.)
    """
    import psutil

    process = psutil.Process()
    dask_worker.tileblot_rss = state = {"start": process.memory_info().rss, "peak": 0, "run": True}

    def sample():
        while state["run"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(interval)

    threading.Thread(target=sample, daemon=True).start()


def stop_rss_sampler(dask_worker):
    """On a worker: stop sampling; return ``(rss at start, peak rss)`` in bytes."""
    state = dask_worker.tileblot_rss
    state["run"] = False
    return state["start"], state["peak"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mosaic-gb", type=float, default=3.0)
    parser.add_argument("--exposure", type=int, default=8192, help="exposure side (pixels)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--memory-limit", default="700MB")
    parser.add_argument("--interp", default="lan3")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--dir", default="bench-out", help="where the zarr stores go")
    parser.add_argument("--keep", action="store_true", help="keep the output store")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    workdir = Path(args.dir)
    workdir.mkdir(parents=True, exist_ok=True)
    side = int(math.sqrt(args.mosaic_gb * 1e9 / 4))
    start = time.perf_counter()
    mosaic = write_mosaic(workdir / "mosaic.zarr", side)
    print(f"mosaic: {side} x {side} float32 = {side * side * 4 / 1e9:.2f} GB "
          f"({time.perf_counter() - start:.0f} s to write or reuse)")

    # The exposure covers about 80% of the mosaic's width, rotated.
    n = args.exposure
    pixmap = tileblot.affine_pixmap(
        (n, n), rotation=12.0, scale=0.8 * side / n / 1.2,
        shift=(side / 2 - (n - 1) / 2, side / 2 - (n - 1) / 2), chunks=args.tile,
    )
    out = workdir / "exposure.zarr"
    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker,
                      memory_limit=args.memory_limit, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        limit = sum(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
        print(f"cluster: {args.workers} workers x {args.memory_limit} = {limit / 1e9:.2f} GB "
              f"(mosaic is {side * side * 4 / limit:.1f}x that)")
        client.run(start_rss_sampler)
        start = time.perf_counter()
        tileblot.blot_to_zarr(str(workdir / "mosaic.zarr"), pixmap, out, interp=args.interp,
                              chunks=args.tile, overwrite=True, client=client, progress=False)
        wall = time.perf_counter() - start
        samples = client.run(stop_rss_sampler)
    info = tileblot._io._store.describe(out)
    assert info["complete"], "job did not complete"
    mpix = n * n / 1e6
    print(f"blot: {info['tiles']} tiles of {args.tile}^2, interp={args.interp}, "
          f"{mpix:.0f} Mpix in {wall:.1f} s = {mpix / wall:.2f} Mpix/s")
    for worker, (at_start, peak) in samples.items():
        print(f"  worker {worker}: peak RSS {peak / 1e6:.0f} MB (at start {at_start / 1e6:.0f} MB)")
    result = dict(mosaic_side=side, mosaic_gb=side * side * 4 / 1e9, cluster_limit_gb=limit / 1e9,
                  exposure=n, tile=args.tile, interp=args.interp, wall_s=wall,
                  mpix_s=mpix / wall, worker_peak_rss_mb=[p / 1e6 for _, p in samples.values()])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    if not args.keep:
        shutil.rmtree(out)
    _ = mosaic
    return result


if __name__ == "__main__":
    main()
