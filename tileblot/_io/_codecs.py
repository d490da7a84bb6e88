"""The output's codec: tileblot's default, and the names the command line accepts.

Measured on blotted float32 images (``benchmarks/bench_codecs.py``, numbers in
``docs/performance.rst``): blosc with lz4 and byte shuffle encodes about 3x
faster than zarr's default zstd and stores less (shuffling groups the bytes
of each float by significance, so the exponent bytes compress), and decodes
as fast. zstd levels above 1 cost time and save almost nothing on noisy
float32 data. Hence the default below; ``compressors=`` (Python) and
``--codec`` (command line) choose another.
"""

from zarr.codecs import BloscCodec, ZstdCodec

#: Codec names the command line accepts; ``zstd-N`` takes any zstd level N.
CODEC_NAMES = ("blosc-lz4", "blosc-zstd", "zstd", "zstd-N", "none")
DEFAULT_CODEC = "blosc-lz4"


def compressors_for(name):
    """zarr ``compressors`` for a codec name (see :data:`CODEC_NAMES`).

    Raises
    ------
    ValueError
        For an unknown name or a zstd level that is not an integer.
    """
    if not isinstance(name, str):
        raise TypeError(f"codec must be a name such as {DEFAULT_CODEC!r}, got {name!r}")
    text = name.strip().lower()
    if text == "blosc-lz4":
        return [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]
    if text == "blosc-zstd":
        return [BloscCodec(cname="zstd", clevel=1, shuffle="shuffle")]
    if text == "zstd":
        return [ZstdCodec(level=1)]
    if text.startswith("zstd-"):
        level = text.removeprefix("zstd-")
        if not level.lstrip("-").isdigit():
            raise ValueError(f"codec {name!r}: the zstd level must be an integer, e.g. zstd-3")
        return [ZstdCodec(level=int(level))]
    if text == "none":
        return []
    raise ValueError(f"unknown codec {name!r}; choose one of {', '.join(CODEC_NAMES)}")


def output_compressors(compressors):
    """What ``blot_to_zarr(compressors=...)`` means: a name, zarr's own spec, or the default.

    ``None`` gives tileblot's default (:data:`DEFAULT_CODEC`); a string is a
    codec name; anything else (a codec, a list of codecs, zarr's dict
    form) is handed to zarr as it is, which checks it.
    """
    if compressors is None:
        return compressors_for(DEFAULT_CODEC)
    if isinstance(compressors, str):
        return compressors_for(compressors)
    return compressors
