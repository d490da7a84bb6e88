"""Speed of ``tileblot.blot_image`` against drizzle's ``blot_image`` and scipy, per interpolator.

One image of side ``2 * --size`` (float32, random and smooth-ish: 8 x 8 blocks of noise plus a
little fine noise) is blotted onto an output of side ``--size`` through a pixmap rotated by
20 degrees and scaled by 1.3 about the image centre, so every output pixel lands inside the
image. On these same inputs the script times, best of ``--repeat`` rounds with the methods
interleaved in each round (so that load from other processes hits them alike):

- drizzle 3.0's ``drizzle.resample.blot_image`` (C, one thread);
- ``tileblot.blot_image`` with ``num_threads=1`` and with ``--threads`` threads, for each
  ``precision`` ("drizzle", "high");
- ``scipy.ndimage.map_coordinates`` with ``prefilter=False`` on the same coordinates, orders
  0, 1, 3, 5 standing in for nearest, linear, poly3, poly5 (scipy's orders 3 and 5 are
  B-splines, not the same interpolants: a yardstick for speed only).

numba compiles every kernel once, outside the timings, on arrays of the same dtypes and
layouts as the timed calls. Rates are output megapixels per second (wall clock, or with
``--clock cpu`` the CPU time of the calling thread: steadier on a shared machine, and right
for the one-thread columns only).

Run from the repository root (needs the ``test`` extras: drizzle, scipy)::

    python benchmarks/bench_blot_image.py [--size 2048] [--repeat 3] [--interp poly3 lan3]
        [--threads N] [--clock wall|cpu] [--json results.json]

Prints a plain-text table; ``--json`` also writes the numbers.
"""

import argparse
import json
import math
import os
import time
import warnings

import numpy as np
from _common import best_interleaved
from drizzle.resample import blot_image as drizzle_blot_image
from scipy.ndimage import map_coordinates

import tileblot

# tileblot's names, drizzle's names, scipy's spline order (None: no counterpart).
INTERPOLATORS = {
    "nearest": ("nearest", 0),
    "linear": ("linear", 1),
    "poly3": ("poly3", 3),
    "poly5": ("poly5", 5),
    "lan3": ("lanczos3", None),
    "lan5": ("lanczos5", None),
}
PRECISIONS = ("drizzle", "high")


def make_inputs(size, seed=0):
    """Image of side ``2 * size`` and the pixmap of a ``size`` x ``size`` output."""
    rng = np.random.default_rng(seed)
    side = 2 * size
    coarse = rng.normal(size=(side // 8, side // 8))
    data = np.kron(coarse, np.ones((8, 8))) + 0.1 * rng.normal(size=(side, side))
    data = data.astype(np.float32)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    theta = math.radians(20.0)
    u = (x - size / 2) * 1.3
    v = (y - size / 2) * 1.3
    pixmap = np.dstack([
        side / 2 + math.cos(theta) * u - math.sin(theta) * v,
        side / 2 + math.sin(theta) * u + math.cos(theta) * v,
    ])
    return data, pixmap


def methods(data, pixmap, interp, threads):
    """``{label: callable}`` of the timed calls for one interpolator."""
    drizzle_name, order = INTERPOLATORS[interp]
    out = np.empty(pixmap.shape[:2], dtype=np.float32)
    calls = {"drizzle": lambda: drizzle_blot_image(data, pixmap, interp=drizzle_name)}
    for precision in PRECISIONS:
        for n in (1, threads):
            calls[f"tileblot {precision} {n}t"] = (
                lambda precision=precision, n=n: tileblot.blot_image(
                    data, pixmap, out_img=out, interp=interp, precision=precision, num_threads=n
                )
            )
    if order is not None:
        coords = np.stack([pixmap[..., 1], pixmap[..., 0]])
        calls["scipy"] = lambda: map_coordinates(data, coords, order=order, prefilter=False)
    return calls


def warm_up(data, pixmap, interp):
    """Compile the kernels for these dtypes and layouts, outside the timings."""
    small = np.ascontiguousarray(pixmap[:16, :16])
    for precision in PRECISIONS:
        tileblot.blot_image(data, small, interp=interp, precision=precision, num_threads=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="output side (image: twice that)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument("--interp", nargs="+", choices=list(INTERPOLATORS),
                        default=list(INTERPOLATORS), help="interpolators to time")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads for the multi-threaded tileblot runs (default: all)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="'cpu': the calling thread's CPU time, steadier on a loaded "
                             "machine (meaningful for the one-thread columns only)")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time

    data, pixmap = make_inputs(args.size)
    mpix = pixmap.shape[0] * pixmap.shape[1] / 1e6
    rows = []
    labels = None
    for interp in args.interp:
        warm_up(data, pixmap, interp)
        calls = methods(data, pixmap, interp, args.threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            best = best_interleaved(calls, args.repeat, clock)
        rates = {label: mpix / seconds for label, seconds in best.items()}
        ratio = best["drizzle"] / best["tileblot drizzle 1t"]
        rows.append({"interp": interp, "mpix_per_s": rates, "ratio_1t_vs_drizzle": ratio})
        if labels is None:
            labels = [label for label in calls if label != "scipy"] + ["scipy"]
            print(f"output {args.size}^2 from {2 * args.size}^2 float32; Mpix/s, best of "
                  f"{args.repeat}; {args.threads} threads; {args.clock} clock")
            print(f"{'interp':8s}" + "".join(f"{label:>20s}" for label in labels)
                  + f"{'1t / drizzle':>14s}")
        cells = "".join(
            f"{rates[label]:20.1f}" if label in rates else f"{'-':>20s}" for label in labels
        )
        print(f"{interp:8s}{cells}{ratio:14.2f}", flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size": args.size, "threads": args.threads, "repeat": args.repeat,
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
