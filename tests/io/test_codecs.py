"""The output codec: the measured default, names, and zarr's own codecs, all lossless."""

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec, ZstdCodec
from zarr.storage import MemoryStore

import tileblot
from tileblot._io._codecs import CODEC_NAMES, compressors_for, output_compressors

from ..helpers import affine_pixmap


def _compressor(image):
    codec, checksum = image.compressors
    assert isinstance(checksum, Crc32cCodec)
    return codec


@pytest.fixture
def scene(rng):
    data = rng.standard_normal((90, 90)).astype(np.float32)
    pixmap = affine_pixmap((40, 50), angle=0.3, shift=(20.0, 10.0))
    return data, pixmap, tileblot.blot_image(data, pixmap, interp="linear", precision="high")


def test_default_is_blosc_lz4_with_byte_shuffle(scene):
    data, pixmap, expected = scene
    image = tileblot.blot_to_zarr(data, pixmap, MemoryStore(), interp="linear", chunks=16,
                                  progress=False)
    codec = _compressor(image)
    assert isinstance(codec, BloscCodec)
    assert (codec.cname.value, codec.shuffle.value) == ("lz4", "shuffle")
    np.testing.assert_array_equal(image[...], expected)


@pytest.mark.parametrize(("compressors", "kind", "setting"), [
    ("zstd-3", ZstdCodec, 3), ("none", None, None), ("blosc-zstd", BloscCodec, "zstd"),
    ([ZstdCodec(level=7)], ZstdCodec, 7),
])
def test_a_chosen_codec_is_used_and_lossless(scene, compressors, kind, setting):
    data, pixmap, expected = scene
    image = tileblot.blot_to_zarr(data, pixmap, MemoryStore(), interp="linear", chunks=16,
                                  progress=False, compressors=compressors)
    if kind is None:
        assert image.compressors == (Crc32cCodec(),)
    else:
        codec = _compressor(image)
        assert isinstance(codec, kind)
        assert (codec.level if kind is ZstdCodec else codec.cname.value) == setting
    np.testing.assert_array_equal(image[...], expected)


@pytest.mark.parametrize("bad", ["lz5", "zstd-x", ""])
def test_a_bad_codec_name_fails_before_anything_is_written(scene, tmp_path, bad):
    data, pixmap, _ = scene
    with pytest.raises(ValueError, match="codec"):
        tileblot.blot_to_zarr(data, pixmap, tmp_path / "out.zarr", compressors=bad,
                              progress=False)
    assert not (tmp_path / "out.zarr").exists()
    with pytest.raises(TypeError, match="codec"):
        compressors_for(3)


@pytest.mark.parametrize(("bad", "error", "words"), [
    (5, TypeError, "got 5"),
    ([None], TypeError, "got None"),
    (b"zstd", TypeError, "got b'zstd'"),
    ([ZstdCodec(level=3), "zstd"], TypeError, "got 'zstd'"),
    ({"name": "nope"}, ValueError, "unknown codec 'nope'"),
    ({"name": "zstd", "configuration": {"level": "x"}}, ValueError, "not a codec zarr can make"),
    ("zstd---5", ValueError, "the zstd level must be an integer"),
    # zarr takes it, blosc refuses it: it failed every tile task.
    ({"name": "blosc", "configuration": {"clevel": 99}}, ValueError, "cannot store the image"),
])
@pytest.mark.parametrize("resume", [False, True])
def test_bad_compressors_leave_an_existing_output_as_it_was(scene, tmp_path, bad, error, words,
                                                            resume):
    # zarr checked a compressor only as it made the image: an overwrite had deleted the old
    # one by then, and a resume took any value at all.
    data, pixmap, expected = scene
    out = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, out, interp="linear", chunks=16, progress=False)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(error, match=words):
        tileblot.blot_to_zarr(data, pixmap, out, interp="linear", chunks=16, progress=False,
                              compressors=bad, overwrite=not resume, resume=resume)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    np.testing.assert_array_equal(tileblot.open_output(out).image[...], expected)


def test_every_documented_name_resolves():
    for name in CODEC_NAMES:
        compressors_for(name.replace("-N", "-5"))
    assert output_compressors(None) == [*compressors_for("blosc-lz4"), Crc32cCodec()]
    # A checksum already given is not doubled.
    assert output_compressors([ZstdCodec(), Crc32cCodec()]) == [ZstdCodec(), Crc32cCodec()]
    assert output_compressors(ZstdCodec()) == [ZstdCodec(), Crc32cCodec()]
    # One that a compressor follows checks the compressed bytes no more: one more ends them.
    assert output_compressors([Crc32cCodec(), ZstdCodec()]) == [Crc32cCodec(), ZstdCodec(),
                                                                 Crc32cCodec()]


def test_codecs_given_as_a_generator_are_all_used(scene):
    data, pixmap, expected = scene
    image = tileblot.blot_to_zarr(data, pixmap, MemoryStore(), interp="linear", chunks=16,
                                  progress=False,
                                  compressors=(ZstdCodec(level=level) for level in (4,)))
    assert _compressor(image).level == 4
    np.testing.assert_array_equal(image[...], expected)


@pytest.mark.parametrize("codec", ["blosc-lz4", "zstd", "none"])
def test_a_flipped_bit_in_a_stored_chunk_is_found(scene, tmp_path, codec):
    # Bit rot keeps the file's size: only a checksum tells. Every codec carries one.
    data, pixmap, expected = scene
    path = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, path, interp="linear", chunks=16, progress=False,
                          compressors=codec)
    chunk = path / "image" / "c" / "1" / "1"
    raw = bytearray(chunk.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    chunk.write_bytes(bytes(raw))
    assert tileblot.open_output(path).record["complete"]  # the listing cannot see it
    assert tileblot.verify_output(path)["tiles_corrupt"] == [[1, 1]]
    tileblot.blot_to_zarr(data, pixmap, path, interp="linear", chunks=16, progress=False,
                          resume=True, verify=True)
    np.testing.assert_array_equal(tileblot.open_output(path).image[...], expected)


def test_cli_codec_option(rng, tmp_path, capsys):
    from tileblot._cli import main

    data = rng.standard_normal((60, 60)).astype(np.float32)
    zarr.create_array(str(tmp_path / "data.zarr"), data=data, chunks=(32, 32))
    np.save(tmp_path / "pixmap.npy", affine_pixmap((30, 30), shift=(5.0, 5.0)))
    argv = ["blot", str(tmp_path / "data.zarr"), str(tmp_path / "pixmap.npy"),
            str(tmp_path / "out.zarr"), "--no-progress"]
    assert main([*argv, "--codec", "lz5"]) == 2
    assert "unknown codec 'lz5'" in capsys.readouterr().err
    assert main([*argv, "--codec", "zstd-2", "--workers", "1"]) == 0
    image = zarr.open_group(tmp_path / "out.zarr", mode="r")["image"]
    assert _compressor(image).level == 2
