"""Draw docs/_static/performance.png from the benchmarks' JSON output.

Run::

    python benchmarks/bench_blot_image.py --size 2048 --repeat 5 --json blot_image.json
    python benchmarks/bench_dask_overhead.py --size 4096 --json overhead.json
    python benchmarks/plot_performance.py blot_image.json overhead.json docs/_static/performance.png
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def series(threads):
    """``(key, label)`` of each bar: bench_blot_image.py names its multi-threaded runs after
    its ``--threads`` (all the cores by default), which its JSON records."""
    return [
        ("drizzle", "drizzle 3.0 (C, 1 thread)"),
        ("tileblot drizzle 1t", "tileblot, 1 thread"),
        (f"tileblot drizzle {threads}t", f"tileblot, {threads} threads"),
        ("scipy", "scipy map_coordinates"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blot_image_json")
    parser.add_argument("overhead_json")
    parser.add_argument("png")
    args = parser.parse_args(argv)
    with open(args.blot_image_json) as f:
        kernels = json.load(f)
    with open(args.overhead_json) as f:
        overhead = json.load(f)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=(2, 1))
    interps = [row["interp"] for row in kernels["rows"]]
    bars = series(kernels["threads"])
    if kernels["threads"] == 1:  # the "1t" runs are the multi-threaded ones' too
        del bars[2]
    width = 0.8 / len(bars)
    for k, (key, label) in enumerate(bars):
        # scipy has no Lanczos (no bar); any other missing run is an error, not a gap.
        values = [row["mpix_per_s"].get(key, np.nan) if key == "scipy"
                  else row["mpix_per_s"][key] for row in kernels["rows"]]
        left.bar(np.arange(len(interps)) + (k - (len(bars) - 1) / 2) * width, values, width,
                 label=label)
    left.set_xticks(np.arange(len(interps)), interps)
    left.set_yscale("log")
    left.set_ylabel("output Mpix/s")
    left.set_title(f"blot_image, {kernels['size']}$^2$ output (precision='drizzle')")
    left.legend(fontsize=8, loc="upper right")

    tiles = sorted({row["tile"] for row in overhead})
    interps = sorted({row["interp"] for row in overhead})
    threads = sorted({row["threads"] for row in overhead})
    if len(tiles) == 1:
        # One tile size: bars per interpolator, one per thread count.
        width = 0.8 / len(threads)
        for k, n in enumerate(threads):
            values = [100 * next(r["store_overhead"] for r in overhead
                                 if r["interp"] == interp and r["threads"] == n)
                      for interp in interps]
            right.bar(np.arange(len(interps)) + (k - (len(threads) - 1) / 2) * width, values,
                      width, label=f"{n} thread(s)")
        right.set_xticks(np.arange(len(interps)), interps, rotation=30)
        right.set_xlabel(f"interpolator ({tiles[0]} x {tiles[0]} tiles)")
    else:
        for interp in interps:
            for n in threads:
                rows = sorted((r for r in overhead if r["interp"] == interp and r["threads"] == n),
                              key=lambda r: r["tile"])
                right.plot([r["tile"] for r in rows], [100 * r["store_overhead"] for r in rows],
                           marker="o", label=f"{interp}, {n} thread(s)")
        right.set_xscale("log", base=2)
        right.set_xticks(tiles, [str(t) for t in tiles])
        right.set_xlabel("tile side (pixels)")
    right.axhline(10, color="grey", linestyle="--", linewidth=1, label="goal: 10%")
    right.set_ylabel("dask overhead vs blot_image (%)")
    right.set_title("blot (dask) vs blot_image, same inputs")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
