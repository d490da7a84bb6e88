"""Whole-chunk writes in the calling thread: the very bytes zarr's own writes store."""

import pickle

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, MemoryStore, WrapperStore

from tileblot._io._chunks import ChunkWriter, _sync_codecs
from tileblot._io._codecs import output_compressors

SHAPE, CHUNKS = (23, 30), (10, 12)  # 3 x 3 chunks, the last row and column partial


def _array(store, compressors, dtype=np.float32, fill=np.nan, **kwargs):
    return zarr.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill,
                             compressors=compressors, config={"write_empty_chunks": True},
                             **kwargs)


def _blocks(rng, dtype=np.float32):
    whole = (rng.standard_normal(SHAPE) * 100).astype(dtype)
    for cy in range(3):
        for cx in range(3):
            rows = slice(cy * CHUNKS[0], (cy + 1) * CHUNKS[0])
            cols = slice(cx * CHUNKS[1], (cx + 1) * CHUNKS[1])
            yield (cy, cx), (rows, cols), whole[rows, cols]


def _chunk_bytes(store):
    return {key: bytes(value.to_bytes()) for key, value in store._store_dict.items()
            if key.startswith("c/")}


@pytest.mark.parametrize("codec", [None, "zstd", "blosc-zstd", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, ">f8"])
def test_the_bytes_are_those_zarr_writes(rng, codec, dtype):
    ours, theirs = MemoryStore(), MemoryStore()
    mine, reference = (_array(s, output_compressors(codec), dtype=dtype, fill=7)
                       for s in (ours, theirs))
    assert _sync_codecs(mine) is not None  # encoded here, not by zarr's pipeline
    writer = ChunkWriter(mine)
    for coords, selection, block in _blocks(rng, dtype):
        writer.write(coords, block)
        reference[selection] = block
    written = _chunk_bytes(ours)
    assert len(written) == 9  # the partial edge chunks too
    assert written == _chunk_bytes(theirs)
    np.testing.assert_array_equal(mine[...], reference[...])


def _write_and_read_back(image, rng):
    """Write every chunk of ``image`` with a ChunkWriter; each reads back as written."""
    writer = ChunkWriter(image)
    blocks = list(_blocks(rng))
    for coords, _, block in blocks:
        writer.write(coords, block)
    for _, selection, block in blocks:
        np.testing.assert_array_equal(image[selection], block)


def test_an_edge_chunk_is_padded_with_the_fill_value_and_reads_back(tmp_path, rng):
    image = _array(LocalStore(tmp_path / "a.zarr"), output_compressors(None))
    _write_and_read_back(image, rng)
    # The padding is stored as zarr stores it: the fill value (NaN here).
    raw = zarr.open_array(tmp_path / "a.zarr", mode="r")
    assert np.isnan(raw.fill_value)
    assert (tmp_path / "a.zarr" / "c" / "2" / "2").is_file()


def test_a_chunk_of_fill_values_is_still_written(tmp_path):
    image = _array(LocalStore(tmp_path / "a.zarr"), output_compressors(None), fill=0)
    ChunkWriter(image).write((0, 1), np.zeros(CHUNKS, dtype=np.float32))
    assert (tmp_path / "a.zarr" / "c" / "0" / "1").is_file()


def test_a_store_without_synchronous_writes_gets_the_same_bytes(rng):
    # An object store's path: one store.set through zarr's loop.
    inner, reference_store = MemoryStore(), MemoryStore()
    wrapped = WrapperStore(inner)
    assert not hasattr(wrapped, "set_sync")
    mine = _array(wrapped, output_compressors(None))
    reference = _array(reference_store, output_compressors(None))
    writer = ChunkWriter(mine)
    for coords, selection, block in _blocks(rng):
        writer.write(coords, block)
        reference[selection] = block
    assert _chunk_bytes(inner) == _chunk_bytes(reference_store)


def test_an_array_in_a_group_writes_under_its_own_path(rng):
    store = MemoryStore()
    group = zarr.open_group(store, mode="w")
    image = group.create_array("image", shape=SHAPE, chunks=CHUNKS, dtype=np.float32,
                               fill_value=0)
    coords, selection, block = next(_blocks(rng))
    ChunkWriter(image).write(coords, block)
    assert "image/c/0/0" in store._store_dict and "c/0/0" not in store._store_dict
    np.testing.assert_array_equal(zarr.open_group(store, mode="r")["image"][selection], block)


@pytest.mark.parametrize("case", ["sharded", "F order"])
def test_what_cannot_be_encoded_here_goes_through_zarr(rng, case):
    # Sharding (chunks inside shards, no synchronous encoder) or a chunk layout in
    # memory other than C: written by array[...] = block.
    if case == "sharded":
        image = _array(MemoryStore(), output_compressors(None), shards=(20, 24))
    else:
        image = zarr.create_array(MemoryStore(), shape=SHAPE, chunks=CHUNKS, dtype=np.float32,
                                  fill_value=0, config={"order": "F"})
    assert _sync_codecs(image) is None
    _write_and_read_back(image, rng)


@pytest.mark.parametrize(("coords", "shape"), [((0, 0), (10, 11)), ((2, 2), (10, 12)),
                                               ((0, 0), (3, 10, 12))])
def test_a_block_of_the_wrong_shape_is_refused(coords, shape):
    image = _array(MemoryStore(), output_compressors(None))
    with pytest.raises(ValueError, match=r"chunk \(\d, \d\) of \(23, 30\) in chunks of"):
        ChunkWriter(image).write(coords, np.zeros(shape, dtype=np.float32))


def test_a_writer_pickles_without_what_it_derived(tmp_path, rng):
    image = _array(LocalStore(tmp_path / "a.zarr"), output_compressors(None))
    writer = ChunkWriter(image)
    coords, _, block = next(_blocks(rng))
    writer.write(coords, block)  # derives the codecs and the store's setter
    again = pickle.loads(pickle.dumps(writer))
    assert again._ready is None
    again.write((1, 1), block)
    np.testing.assert_array_equal(image[10:20, 12:24], block)
