"""End to end, zarr -> zarr, against the job's floor: decode once + kernel + encode once.

For one mosaic in zarr and one rotated exposure, measured in one run on the
same threads:

- the *floor*: decoding once each mosaic chunk the exposure touches, the
  kernel alone (``blot_image`` on in-memory arrays), and encoding the output
  once with tileblot's codec (``None``: its default) and tiles, through
  zarr's ``array[...] = tile`` (or, ``--floor-encode chunks``, with the
  cheaper whole-chunk writes of ``blot_to_zarr``'s own tasks);
- the jobs: ``blot_to_zarr`` (zarr -> zarr) and ``blot(...).compute()``
  (zarr -> memory), on dask's threaded scheduler;
- the *decode amplification* of each job: chunk reads counted at the store
  (a counting zarr store wrapper) over the number of chunks the exposure
  touches (all chunks have the same size, so it is also pixels decoded over
  pixels in those chunks).

It ends with the cold-start table of ``bench_cold_start.py`` (``--no-cold-start``
skips it). Optionally also the amplification of a 4-exposure dithered job
(``--dithers``) and of jobs on a ``LocalCluster`` of worker processes
(``--cluster``: ``blot_to_zarr``, and ``blot(...).compute()`` through the
client, at each tile size, ``--cluster-runs`` times each).

Run::

    python benchmarks/bench_pipeline.py                      # the issue's job, 8192^2 mosaic
    python benchmarks/bench_pipeline.py --mosaic 4096 --exposure 2048 --interp linear
    python benchmarks/bench_pipeline.py --tiles 512 --clock cpu   # a shared machine

``--clock cpu`` times everything by this process's CPU time (every thread,
zarr's included) instead of the wall clock: steadier when other jobs share
the cores, but blind to time spent waiting.
"""

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import dask
import numpy as np
import zarr
from _common import best_interleaved, write_mosaic
from zarr.storage import LocalStore

import tileblot
from tileblot._engine._planning import coordinate_bbox, window_for
from tileblot._io import _windows
from tileblot._io._chunks import ChunkWriter
from tileblot._io._codecs import output_compressors
from tileblot._kernels._registry import resolve


class CountingStore(LocalStore):
    """A local zarr store that counts the chunk reads of this process (metadata excluded).

    A ``LocalStore`` itself, so that tileblot identifies it by its files' stamps
    as it does any local zarr (a wrapper store would be identified by content,
    which reads the whole mosaic).
    """

    reads: ClassVar[Counter] = Counter()

    async def get(self, key, prototype, byte_range=None):
        if key.startswith("c/") or "/c/" in key:  # chunk keys, not metadata
            CountingStore.reads[key] += 1
        return await super().get(key, prototype, byte_range)


def reset_counts():
    """Forget the counts and the decoded chunks of this process (also run on workers)."""
    CountingStore.reads.clear()
    _windows.process_cache().clear()


def read_count():
    return sum(CountingStore.reads.values())




def exposure_pixmap(side, n, rotation, shift=(0.0, 0.0)):
    """An ``n x n`` exposure at pixel ratio 1, rotated, centred on the mosaic (numpy)."""
    centre = side / 2 - (n - 1) / 2
    return tileblot.affine_pixmap(
        (n, n), rotation=rotation, scale=1.0, shift=(centre + shift[0], centre + shift[1]),
    ).compute()


def touched_chunks(pixmap, shape, chunk, interp, precision, step=128):
    """Indices of the mosaic chunks that the exposure's reads touch (fine 128^2 windows)."""
    halo = resolve(interp).halo
    found = set()
    for j in range(0, pixmap.shape[0], step):
        for i in range(0, pixmap.shape[1], step):
            bbox = coordinate_bbox(pixmap[j : j + step, i : i + step], shape, precision)
            if bbox is None:
                continue
            w = window_for(bbox, halo, shape)
            found.update((cy, cx) for cy in range(w.y0 // chunk, (w.y1 - 1) // chunk + 1)
                         for cx in range(w.x0 // chunk, (w.x1 - 1) // chunk + 1))
    return sorted(found)




def floor_decode(mosaic, chunks, chunk, threads):
    def one(index):
        cy, cx = index
        return mosaic[cy * chunk : (cy + 1) * chunk, cx * chunk : (cx + 1) * chunk].sum()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, chunks))


def floor_encode(image, path, tile, threads, compressors, how="zarr"):
    """Encode ``image`` once into zarr: with ``array[...] = tile`` (``how="zarr"``) or
    with the whole-chunk writes of tileblot's tasks (``"chunks"``, ``_io/_chunks``)."""
    if path.exists():
        shutil.rmtree(path)
    out = zarr.create_array(path, shape=image.shape, chunks=(tile, tile), dtype=np.float32,
                            compressors=output_compressors(compressors))
    starts = [(y, x) for y in range(0, image.shape[0], tile)
              for x in range(0, image.shape[1], tile)]
    writer = ChunkWriter(out)

    def one(start):
        y, x = start
        if how == "chunks":
            writer.write((y // tile, x // tile), image[y : y + tile, x : x + tile])
        else:
            out[y : y + tile, x : x + tile] = image[y : y + tile, x : x + tile]

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, starts))


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def counted(path):
    return zarr.open_array(CountingStore(path, read_only=True), mode="r")


def job_to_zarr(data, pixmap, out, **kwargs):
    tileblot.blot_to_zarr(data, pixmap, out, overwrite=True, progress=False, **kwargs)


def job_compute(data, pixmap, **kwargs):
    return tileblot.blot(data, pixmap, **kwargs).compute()


def amplification(fn, ntouched):
    reset_counts()
    fn()
    return read_count() / ntouched


def run_one(args, work, mosaic_path, in_memory, pixmap, touched, interp, tile):
    kwargs = dict(interp=interp, precision=args.precision, chunks=tile)
    clock = CLOCKS[args.clock]
    data = counted(mosaic_path)
    out = work / "out.zarr"
    tileblot.blot_image(in_memory, pixmap[:64, :64], interp=interp, precision=args.precision)
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        amp_zarr = amplification(lambda: job_to_zarr(data, pixmap, out, **kwargs), len(touched))
        amp_compute = amplification(lambda: job_compute(data, pixmap, **kwargs), len(touched))

    raw = zarr.open_array(mosaic_path, mode="r")
    image = np.empty(pixmap.shape[:2], dtype=np.float32)

    def threaded(fn):
        def timed():
            reset_counts()  # every run decodes from scratch
            with dask.config.set(scheduler="threads", num_workers=args.threads):
                fn()
        return timed

    # One round times the two jobs and the floor's three parts one after the other, so that
    # load from other processes, which comes and goes, hits jobs and floor alike.
    best = best_interleaved({
        "to_zarr": threaded(lambda: job_to_zarr(data, pixmap, out, **kwargs)),
        "compute": threaded(lambda: job_compute(data, pixmap, **kwargs)),
        "decode": lambda: floor_decode(raw, touched, args.chunk, args.threads),
        "kernel": lambda: tileblot.blot_image(in_memory, pixmap, out_img=image, interp=interp,
                                              precision=args.precision,
                                              num_threads=args.threads),
        "encode": lambda: floor_encode(image, work / "floor.zarr", tile, args.threads, None,
                                       args.floor_encode),
    }, args.repeat, clock)
    t_zarr, t_compute = best["to_zarr"], best["compute"]
    t_decode, t_kernel, t_encode = best["decode"], best["kernel"], best["encode"]
    floor = t_decode + t_kernel + t_encode
    return dict(interp=interp, tile=tile, amp_zarr=amp_zarr, amp_compute=amp_compute,
                decode_s=t_decode, kernel_s=t_kernel, encode_s=t_encode, floor_s=floor,
                blot_to_zarr_s=t_zarr, compute_s=t_compute,
                ratio_zarr=t_zarr / floor, ratio_compute=t_compute / floor)


def dithered(args, work, mosaic_path, side):
    shifts = [(0.0, 0.0), (37.5, 0.0), (0.0, 41.5), (37.5, 41.5)][: args.dithers]
    pixmaps = [exposure_pixmap(side, args.exposure, args.rotation, s) for s in shifts]
    union = set()
    for pm in pixmaps:
        union.update(touched_chunks(pm, (side, side), args.chunk, "linear", args.precision))
    stores = [work / f"dither{k}.zarr" for k in range(len(pixmaps))]
    data = counted(mosaic_path)
    with dask.config.set(scheduler="threads", num_workers=args.threads):
        amp = amplification(lambda: tileblot.blot_to_zarr(
            data, pixmaps, stores, interp="linear", precision=args.precision, chunks=1024,
            overwrite=True, progress=False), len(union))
    return dict(exposures=len(pixmaps), union_chunks=len(union), amp=amp)


def on_cluster(args, work, mosaic_path, touched):
    """Amplification of both jobs on a LocalCluster of worker processes, per tile size.

    Each job runs ``--cluster-runs`` times: runs can differ, as work stealing
    may move tiles across the border of two workers' bands.
    """
    from distributed import Client, LocalCluster

    data = counted(mosaic_path)
    side = args.mosaic
    centre = side / 2 - (args.exposure - 1) / 2
    rows = []
    with LocalCluster(n_workers=args.cluster, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:

        def amp(job, *job_args, **job_kwargs):
            client.run(reset_counts)
            job(*job_args, **job_kwargs)
            return sum(client.run(read_count).values()) / len(touched)

        for tile in args.tiles:
            # Lazy (the same values as the numpy pixmap): nothing large goes into the graph.
            pixmap = tileblot.affine_pixmap((args.exposure, args.exposure),
                                            rotation=args.rotation, shift=(centre, centre),
                                            chunks=tile)
            kwargs = dict(interp="linear", precision=args.precision, chunks=tile)
            to_zarr = [amp(job_to_zarr, data, pixmap, work / "cluster.zarr", client=client,
                           **kwargs) for _ in range(args.cluster_runs)]
            # The lazy array, built under the client and computed through it.
            compute = [amp(job_compute, data, pixmap, **kwargs)
                       for _ in range(args.cluster_runs)]
            rows.append(dict(tile=tile, amp=to_zarr, amp_compute=compute))
    return dict(workers=args.cluster, rows=rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mosaic", type=int, default=8192, help="mosaic side (pixels)")
    parser.add_argument("--chunk", type=int, default=1024, help="mosaic chunk side")
    parser.add_argument("--exposure", type=int, default=4096, help="exposure side")
    parser.add_argument("--rotation", type=float, default=20.0)
    parser.add_argument("--interp", nargs="+", default=["linear", "poly5", "lan3"])
    parser.add_argument("--tiles", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="drizzle", choices=tileblot.PRECISIONS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dithers", type=int, default=4, help="exposures of the dithered job "
                        "(0: skip)")
    parser.add_argument("--cluster", type=int, default=2, help="worker processes (0: skip)")
    parser.add_argument("--cluster-runs", type=int, default=3,
                        help="runs of each cluster job (each amplification is printed)")
    parser.add_argument("--cold-start", action=argparse.BooleanOptionalAction, default=True,
                        help="end with bench_cold_start.py's table (every interpolator and "
                        "precision, fresh processes, best of 1)")
    parser.add_argument("--cache-mb", type=float, help="size of the chunk cache (default: "
                        "tileblot's budget; 0 turns it off, to see what it saves)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="time the floor and the jobs by the wall clock, or by the CPU "
                        "time of this process (all its threads: steadier on a shared machine)")
    parser.add_argument("--floor-encode", choices=("zarr", "chunks"), default="zarr",
                        help="encode the floor's output with zarr's array[...] = tile, or with "
                        "the whole-chunk writes blot_to_zarr's tasks use (cheaper)")
    parser.add_argument("--dir", help="where the zarr stores go (default: a temporary folder)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    if args.cache_mb is not None:
        # tileblot refuses 0; a cache of one byte holds no chunk: off.
        dask.config.set({"tileblot.chunk-cache": max(1, int(args.cache_mb * 2**20))})
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, work)
    finally:
        if not args.dir:  # the mosaic alone is 256 MB at the default size
            shutil.rmtree(work)


def _run(args, work):
    """The benchmark's tables, its stores in ``work``."""
    side = args.mosaic
    mosaic_path = work / "mosaic.zarr"
    mosaic = write_mosaic(mosaic_path, side, args.chunk)
    in_memory = np.asarray(mosaic[...])
    pixmap = exposure_pixmap(side, args.exposure, args.rotation)
    touched = touched_chunks(pixmap, (side, side), args.chunk, "lan3", args.precision)
    print(f"mosaic {side}^2 float32 in {args.chunk}^2 chunks; exposure {args.exposure}^2 "
          f"rotated {args.rotation} deg at pixel ratio 1 touches {len(touched)} chunks; "
          f"precision={args.precision}, {args.threads} threads, best of {args.repeat} "
          f"({args.clock} clock; floor encoded with {args.floor_encode})")
    header = (f"{'interp':7} {'tile':>5} {'amp zarr':>8} {'amp comp':>8} {'decode':>7} "
              f"{'kernel':>7} {'encode':>7} {'floor':>7} {'to_zarr':>8} {'compute':>8} "
              f"{'zarr/fl':>7} {'comp/fl':>7}")
    print(header)
    print("-" * len(header))
    rows = []
    for interp in args.interp:
        for tile in args.tiles:
            r = run_one(args, work, mosaic_path, in_memory, pixmap, touched, interp, tile)
            rows.append(r)
            print(f"{interp:7} {tile:5d} {r['amp_zarr']:8.2f} {r['amp_compute']:8.2f} "
                  f"{r['decode_s']:7.3f} {r['kernel_s']:7.3f} {r['encode_s']:7.3f} "
                  f"{r['floor_s']:7.3f} {r['blot_to_zarr_s']:8.3f} {r['compute_s']:8.3f} "
                  f"{r['ratio_zarr']:7.2f} {r['ratio_compute']:7.2f}", flush=True)
    result = {"rows": rows}
    if args.dithers:
        result["dithered"] = d = dithered(args, work, mosaic_path, side)
        print(f"{d['exposures']} dithered exposures (linear, 1024^2 tiles): {d['union_chunks']} "
              f"chunks touched, amplification {d['amp']:.2f}")
    if args.cluster:
        result["cluster"] = c = on_cluster(args, work, mosaic_path, touched)
        print(f"LocalCluster of {c['workers']} worker processes (linear), amplification of "
              f"each run:")
        for r in c["rows"]:
            print(f"  {r['tile']:5d}^2 tiles: blot_to_zarr "
                  f"{' '.join(f'{a:.2f}' for a in r['amp'])}; blot(...).compute() "
                  f"{' '.join(f'{a:.2f}' for a in r['amp_compute'])}")
    if args.cold_start:
        import bench_cold_start

        print("Cold start, each cell in fresh processes (bench_cold_start.py --repeat 1):")
        result["cold_start"] = bench_cold_start.main(["--repeat", "1"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    # Run as the module bench_pipeline, not __main__: worker processes then
    # import CountingStore (and count with it) instead of unpickling copies.
    import bench_pipeline

    bench_pipeline.main()
