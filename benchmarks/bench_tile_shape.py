"""Kernel speed against the width of the tiles, at several rotations of the exposure.

A tiled job calls the kernel once per tile, and a tile's rows are only as long as the tile is
wide. The kernels read the mosaic where each output pixel falls, so how an output row runs
through the mosaic (its rotation) and how long it is (the tile's width) decide how well the
processor's caches and prefetchers keep up. This script measures that, with no dask and no I/O:
``tileblot.blot_image`` on one thread, called on vertical strips of the output that together
cover it (``--widths``; the full width is the whole image in one call), for each rotation
(``--rotations``) of an affine pixmap scaled by ``--scale``. The mosaic is in memory (float32,
random), the pixmap is float64, ``precision="high"``.

Each cell is the time to blot the whole output strip by strip, best of ``--repeat`` rounds with
the widths interleaved in each round (load from other processes, which comes and goes, then hits
them alike); in brackets, that time over the widest strip's in the same row (whole
rows when ``--widths`` includes ``--size``, as by default).

Run::

    python benchmarks/bench_tile_shape.py                    # nearest and linear, 4096^2 output
    python benchmarks/bench_tile_shape.py --interp lan3 --size 2048 --widths 2048 512 128
"""

import argparse
import json
from functools import partial

import numpy as np
from _common import best_interleaved

import tileblot


def _strips(data, pixmap, width, out, kwargs):
    for x in range(0, pixmap.shape[1], width):
        tileblot.blot_image(data, pixmap[:, x : x + width], out_img=out[x // width],
                            num_threads=1, **kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="output side (pixels)")
    parser.add_argument("--interp", nargs="+", default=["nearest", "linear"])
    parser.add_argument("--rotations", type=float, nargs="+", default=[0.0, 17.0, 45.0, 80.0])
    parser.add_argument("--scale", type=float, default=1.3,
                        help="mosaic pixels per output pixel")
    parser.add_argument("--widths", type=int, nargs="+", default=[4096, 1024, 512, 256, 128],
                        help="strip widths; each must divide --size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if any(args.size % w for w in args.widths):
        parser.error(f"every width must divide --size {args.size}")

    side = int(np.ceil(args.size * args.scale * 1.5))
    data = np.random.default_rng(0).random((side, side), dtype=np.float32)
    print(f"output {args.size}^2 from {side}^2 float32 at scale {args.scale}, one thread, "
          f"precision=high, best of {args.repeat}; ms to blot the output strip by strip "
          f"(in brackets: over the widest, {max(args.widths)}"
          f"{', whole rows' if max(args.widths) == args.size else ''})")
    header = f"{'interp':7} {'rotation':>8} " + " ".join(f"{'width ' + str(w):>16}"
                                                          for w in args.widths)
    print(header)
    print("-" * len(header))
    rows = []
    for interp in args.interp:
        kwargs = dict(interp=interp, precision="high")
        for rotation in args.rotations:
            shift = (side / 2 - args.size / 2, side / 2 - args.size / 2)
            pixmap = tileblot.affine_pixmap((args.size, args.size), rotation=rotation,
                                            scale=args.scale, shift=shift).compute()
            outs = {w: np.empty((args.size // w, args.size, w), dtype=np.float32)
                    for w in args.widths}
            calls = {w: partial(_strips, data, pixmap, w, outs[w], kwargs) for w in args.widths}
            calls[args.widths[0]]()  # compile outside the timing
            best = best_interleaved(calls, args.repeat)
            whole = best[max(args.widths)]
            rows.append(dict(interp=interp, rotation=rotation, scale=args.scale,
                             seconds={str(w): best[w] for w in args.widths}))
            print(f"{interp:7} {rotation:8.1f} " + " ".join(
                f"{1e3 * best[w]:8.0f} ({best[w] / whole:4.2f}x)" for w in args.widths),
                flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
