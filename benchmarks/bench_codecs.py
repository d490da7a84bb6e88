"""Output codecs on blotted float32 images: encode and decode speed, and size.

Blots a synthetic sky (smooth structure plus noise, as in the other
benchmarks) onto a rotated exposure, cuts the result into tiles (1024 x 1024
by default, tileblot's default tile) and encodes and decodes every tile with
each candidate codec, in zarr's own codec pipeline, one thread: a tile task
encodes its own tile. Reports MB/s of raw float32 data (higher is better)
and the compressed size as a fraction of the raw size (lower is better).

Run::

    python benchmarks/bench_codecs.py
    python benchmarks/bench_codecs.py --size 2048 --repeat 5
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec
from zarr.storage import MemoryStore

import tileblot

CANDIDATES = {
    "none": [],
    "zstd 0 (zarr's default)": [ZstdCodec(level=0)],
    "zstd 1": [ZstdCodec(level=1)],
    "zstd 3": [ZstdCodec(level=3)],
    "zstd 5": [ZstdCodec(level=5)],
    "zstd 9": [ZstdCodec(level=9)],
    "blosc lz4 5 shuffle": [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
    "blosc lz4 5 bitshuffle": [BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")],
    "blosc zstd 1 shuffle": [BloscCodec(cname="zstd", clevel=1, shuffle="shuffle")],
    "blosc zstd 3 shuffle": [BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")],
}


def blotted(size, interp, seed=0):
    """A blotted float32 image: an exposure of ``size``^2, rotated, over a noisy sky."""
    side = int(size * 1.6)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    sky = np.sin(x / 97.0) * np.cos(y / 61.0) + 0.05 * rng.standard_normal((side, side))
    # A corner of the exposure falls off the mosaic: fillval pixels, as in real exposures.
    pixmap = tileblot.affine_pixmap((size, size), rotation=20.0,
                                    shift=(side / 2 - size / 2 + size * 0.35, side / 2 - size / 2))
    return tileblot.blot_image(sky.astype(np.float32), pixmap.compute(), interp=interp)


def measure(image, tile, compressors, repeat):
    """``(encode MB/s, decode MB/s, stored fraction)`` of ``image`` in tiles of ``tile``^2."""
    encode, decode = [], []
    for _ in range(repeat):
        store = MemoryStore()
        array = zarr.create_array(store, shape=image.shape, chunks=(tile, tile),
                                  dtype=np.float32, compressors=compressors,
                                  serializer=BytesCodec(), fill_value=np.float32(0))
        starts = [(y, x) for y in range(0, image.shape[0], tile)
                  for x in range(0, image.shape[1], tile)]
        start = time.perf_counter()
        for y, x in starts:
            array[y : y + tile, x : x + tile] = image[y : y + tile, x : x + tile]
        encode.append(time.perf_counter() - start)
        start = time.perf_counter()
        for y, x in starts:
            array[y : y + tile, x : x + tile]
        decode.append(time.perf_counter() - start)
    stored = sum(len(v) for k, v in store._store_dict.items() if not k.endswith("zarr.json"))
    mb = image.nbytes / 1e6
    return mb / min(encode), mb / min(decode), stored / image.nbytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="exposure side (pixels)")
    parser.add_argument("--tile", type=int, default=1024)
    parser.add_argument("--interp", default="lan3")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    zarr.config.set({"threading.max_workers": 1})
    image = blotted(args.size, args.interp)
    print(f"{args.size}^2 float32 blotted with {args.interp}, {args.tile}^2 tiles, "
          f"{np.mean(image == 0):.0%} fill pixels, best of {args.repeat}")
    header = f"{'codec':26} {'encode MB/s':>12} {'decode MB/s':>12} {'size':>7}"
    print(header)
    print("-" * len(header))
    rows = []
    for name, compressors in CANDIDATES.items():
        enc, dec, frac = measure(image, args.tile, compressors, args.repeat)
        rows.append(dict(codec=name, encode_mb_s=enc, decode_mb_s=dec, stored_fraction=frac))
        print(f"{name:26} {enc:12.0f} {dec:12.0f} {frac:7.1%}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
