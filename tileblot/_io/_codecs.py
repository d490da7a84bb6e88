"""The output's codec: tileblot's default, and the names the command line accepts.

Measured on blotted float32 images (``benchmarks/bench_codecs.py``, numbers in
``docs/performance.rst``): blosc with lz4 and byte shuffle encodes about 3x
faster than zarr's default zstd and stores less (shuffling groups the bytes
of each float by significance, so the exponent bytes compress), and decodes
as fast. zstd levels above 1 cost time and save almost nothing on noisy
float32 data. Hence the default below; ``compressors=`` (Python) and
``--codec`` (command line) choose another. Whichever it is, a CRC-32C checksum
follows it, so that decoding finds a damaged chunk.
"""

import re
from collections.abc import Iterable

from zarr.abc.codec import BytesBytesCodec
from zarr.codecs import BloscCodec, Crc32cCodec, ZstdCodec
from zarr.registry import get_codec_class

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
        if not re.fullmatch(r"-?[0-9]+", level):
            raise ValueError(f"codec {name!r}: the zstd level must be an integer, e.g. zstd-3")
        return [ZstdCodec(level=int(level))]
    if text == "none":
        return []
    raise ValueError(f"unknown codec {name!r}; choose one of {', '.join(CODEC_NAMES)}")


def output_compressors(compressors):
    """What ``blot_to_zarr(compressors=...)`` means, followed by a checksum.

    ``None`` gives tileblot's default (:data:`DEFAULT_CODEC`); a string is a
    codec name; anything else is a zarr v3 compressor (a bytes-to-bytes codec,
    or its dict form) or a list of them, each checked here (``ValueError`` or
    ``TypeError``). A CRC-32C checksum
    ends the list unless the list ends with one: without it, a flipped bit in a
    stored chunk decodes to wrong values with no error (blosc and zstd as
    zarr writes them carry no checksum of their own), and ``info --verify``
    could not tell (measured: 0.15 ms per 1024 x 1024 tile, a tenth of
    blosc-lz4's encoding).
    """
    if compressors is None:
        codecs = compressors_for(DEFAULT_CODEC)
    elif isinstance(compressors, str):
        codecs = compressors_for(compressors)
    else:
        items = (compressors if isinstance(compressors, Iterable)
                 and not isinstance(compressors, (dict, bytes)) else [compressors])
        codecs = [_compressor(codec) for codec in items]
        _check_encodes(codecs)  # the user's settings: tileblot's own names need no trial
    if not (codecs and isinstance(codecs[-1], Crc32cCodec)):
        codecs.append(Crc32cCodec())
    return codecs


def _check_encodes(codecs):
    """``ValueError`` unless ``codecs`` encode and decode a small float32 chunk: settings
    zarr takes but the codec refuses (blosc's ``clevel=99``) failed every tile task."""
    import numpy as np
    import zarr
    from zarr.storage import MemoryStore

    tile = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
    try:
        array = zarr.create_array(MemoryStore(), shape=tile.shape, chunks=tile.shape,
                                  dtype=np.float32, compressors=codecs)
        array[...] = tile
        ok = np.array_equal(array[...], tile)
    except Exception as exc:  # any codec's own error: raised below, without its context
        problem = f"{type(exc).__name__}: {exc}"
    else:
        problem = None if ok else "the values read back differ (a lossy codec)"
    if problem is not None:
        raise ValueError(f"compressors {codecs!r} cannot store the image: {problem}")


def _compressor(codec):
    """One of ``compressors=``'s items as a zarr bytes-to-bytes codec: checked here, before
    any work, since zarr checks it only as it creates the image, after an overwrite has
    deleted the old one."""
    if isinstance(codec, dict):
        name = codec.get("name")
        try:
            codec = get_codec_class(name).from_dict(codec)
        except KeyError:
            raise ValueError(f"unknown codec {name!r} in compressors") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"compressors: {codec!r} is not a codec zarr can make: "
                             f"{exc}") from None
    if not isinstance(codec, BytesBytesCodec):
        raise TypeError(
            f"compressors must be a codec name such as {DEFAULT_CODEC!r}, or zarr v3 "
            f"compressors (bytes-to-bytes codecs, such as zarr.codecs.ZstdCodec, or their "
            f"dict form), or a list of them; got {codec!r}"
        )
    return codec
