"""In-memory inputs are hashed once each, whatever the entry point (issue 9.6)."""

import dask.tokenize
import numpy as np
import pytest
from zarr.storage import MemoryStore

import tileblot

from ..helpers import affine_pixmap


@pytest.fixture
def big_hashes(monkeypatch):
    """Sizes of the buffers dask's tokenizer hashes (those of at least 64 kB)."""
    sizes = []
    real = dask.tokenize.hash_buffer_hex

    def counting(buf, *args, **kwargs):
        nbytes = memoryview(buf).nbytes
        if nbytes >= 1 << 16:
            sizes.append(nbytes)
        return real(buf, *args, **kwargs)

    monkeypatch.setattr(dask.tokenize, "hash_buffer_hex", counting)
    return sizes


@pytest.mark.parametrize("entry", ["blot", "blot_to_zarr"])
def test_each_input_in_memory_is_hashed_once(rng, big_hashes, entry):
    data = rng.standard_normal((300, 300)).astype(np.float32)
    pixmap = affine_pixmap((200, 200), angle=0.2, shift=(40.0, 30.0))
    if entry == "blot":
        tileblot.blot(data, pixmap, interp="linear", chunks=64).compute(scheduler="sync")
    else:
        tileblot.blot_to_zarr(data, pixmap, MemoryStore(), interp="linear", chunks=64,
                              progress=False)
    assert sorted(big_hashes) == sorted([data.nbytes, pixmap.nbytes])


def test_the_hash_is_a_fast_one():
    # xxhash is a dependency: dask's tokenizer uses it instead of sha1 (4x slower here).
    import dask.hashing

    assert dask.hashing.hashers[0].__name__ in {"_hash_xxhash", "_hash_cityhash"}
