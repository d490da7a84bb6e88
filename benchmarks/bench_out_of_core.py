"""Out-of-core blot: a zarr mosaic bigger than the whole cluster's memory, zarr -> zarr.

Writes a synthetic float32 mosaic to zarr (default 3.4 GB), starts a
``LocalCluster`` whose total memory limit is smaller than the mosaic (default
2 workers x 700 MB), and blots the mosaic with ``tileblot.blot_to_zarr``
straight from the store, once per pixmap scale (mosaic pixels per exposure
pixel; default 1 and 5) with 800 x 1000 tiles. At scale 5 one tile's window
is 4000 x 5000 pixels: the task budget (``tileblot._engine._budget``) makes
such tiles run in pieces, each reading its own window. Reports wall time,
Mpix/s, the cluster's memory (``distributed.diagnostics.MemorySampler``),
each worker's peak memory (its own system monitor, sampled every 50 ms) and
whether any worker was restarted.

Run::

    python benchmarks/bench_out_of_core.py                       # 3.4 GB mosaic, scales 1 and 5
    python benchmarks/bench_out_of_core.py --mosaic-gb 0.5 --scale 1 --exposure 4096   # quick
"""

import argparse
import json
import math
import shutil
import time
from pathlib import Path

import dask
from _common import write_mosaic
from distributed import Client, LocalCluster

import tileblot


def _worker_peak(dask_worker, since):
    """On a worker: its peak process memory (bytes) since ``since``, from its system monitor."""
    monitor = dask_worker.monitor
    pairs = zip(monitor.quantities["time"], monitor.quantities["memory"], strict=False)
    return max((m for t, m in pairs if t >= since), default=monitor.quantities["memory"][-1])


def _pids(dask_worker):
    import os

    return os.getpid()


def run_scale(client, args, workdir, side, scale):
    """One blot at ``scale`` mosaic pixels per exposure pixel; returns its figures."""
    from distributed.diagnostics import MemorySampler

    # The exposure covers about 80% of the mosaic's width, rotated 12 degrees.
    n = args.exposure or int(0.8 * side / scale / 1.2)
    pixmap = tileblot.affine_pixmap(
        (n, n), rotation=12.0, scale=scale,
        shift=(side / 2 - (n - 1) / 2, side / 2 - (n - 1) / 2), chunks=tuple(args.tile),
    )
    out = workdir / "exposure.zarr"
    pids = client.run(_pids)
    sampler = MemorySampler()
    since = time.time()
    start = time.perf_counter()
    with sampler.sample("job", client=client, interval=0.1):
        tileblot.blot_to_zarr(str(workdir / "mosaic.zarr"), pixmap, out, interp=args.interp,
                              chunks=tuple(args.tile), overwrite=True, client=client,
                              progress=False)
    wall = time.perf_counter() - start
    peaks = client.run(_worker_peak, since=since)
    restarted = client.run(_pids) != pids
    if not args.keep:
        shutil.rmtree(out)
    cluster_peak = max(m for _, m in sampler.samples["job"])
    return dict(scale=scale, exposure=n, tiles=list(args.tile), wall_s=wall,
                mpix_s=n * n / 1e6 / wall, cluster_peak_mb=cluster_peak / 1e6,
                worker_peak_mb=[p / 1e6 for p in peaks.values()], restarted=restarted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mosaic-gb", type=float, default=3.4)
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0, 5.0],
                        help="mosaic pixels per exposure pixel, one job each")
    parser.add_argument("--exposure", type=int, help="exposure side (default: 80%% of the "
                        "mosaic's width at each scale, at most 8192)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--memory-limit", default="700MB")
    parser.add_argument("--interp", default="lan3")
    parser.add_argument("--tile", type=int, nargs=2, default=[800, 1000], metavar=("NY", "NX"))
    parser.add_argument("--dir", default="bench-out",
                        help="where the zarr stores go (default ./bench-out, which git ignores "
                        "in the repository: the mosaic is kept there, and reused by the next "
                        "run)")
    parser.add_argument("--keep", action="store_true", help="keep the output store")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    workdir = Path(args.dir)
    workdir.mkdir(parents=True, exist_ok=True)
    side = int(math.sqrt(args.mosaic_gb * 1e9 / 4))
    start = time.perf_counter()
    write_mosaic(workdir / "mosaic.zarr", side)
    print(f"mosaic: {side} x {side} float32 = {side * side * 4 / 1e9:.2f} GB "
          f"({time.perf_counter() - start:.0f} s to write or reuse)")
    results = []
    with dask.config.set({"distributed.admin.system-monitor.interval": "50ms"}), \
            LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker,
                         memory_limit=args.memory_limit, processes=True,
                         dashboard_address=":0") as cluster, Client(cluster) as client:
        limit = sum(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
        print(f"cluster: {args.workers} workers x {args.memory_limit} = {limit / 1e9:.2f} GB "
              f"(mosaic is {side * side * 4 / limit:.1f}x that)")
        for scale in args.scale:
            if args.exposure is None and int(0.8 * side / scale / 1.2) > 8192:
                args_scale = argparse.Namespace(**{**vars(args), "exposure": 8192})
            else:
                args_scale = args
            r = run_scale(client, args_scale, workdir, side, scale)
            results.append(r)
            print(f"scale {scale:g}: {r['exposure']}^2 exposure, tiles {args.tile[0]} x "
                  f"{args.tile[1]}, interp={args.interp}: {r['wall_s']:.1f} s = "
                  f"{r['mpix_s']:.2f} Mpix/s; peak memory per worker "
                  + ", ".join(f"{p:.0f} MB" for p in r["worker_peak_mb"])
                  + f" (cluster {r['cluster_peak_mb']:.0f} MB); workers restarted: "
                  f"{'yes' if r['restarted'] else 'no'}", flush=True)
    result = dict(mosaic_side=side, mosaic_gb=side * side * 4 / 1e9, cluster_limit_gb=limit / 1e9,
                  interp=args.interp, runs=results)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
