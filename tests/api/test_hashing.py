"""In-memory inputs are hashed once each, whatever the entry point (issue 9.6)."""

import dask.tokenize
import numpy as np
import pytest
from zarr.storage import MemoryStore

import tileblot
from tileblot._io import _identity

from ..helpers import affine_pixmap


@pytest.fixture
def big_hashes(monkeypatch):
    """Sizes of the arrays hashed for their identity, and of the buffers of at least
    64 kB that dask's tokenizer hashes (there should be none: that would be a second
    hash of an input)."""
    ours, dasks = [], []
    real_ours, real_dasks = _identity.content_hash, dask.tokenize.hash_buffer_hex

    def counting_ours(array):
        ours.append(np.asarray(array).nbytes)
        return real_ours(array)

    def counting_dasks(buf, *args, **kwargs):
        nbytes = memoryview(buf).nbytes
        if nbytes >= 1 << 16:
            dasks.append(nbytes)
        return real_dasks(buf, *args, **kwargs)

    monkeypatch.setattr(_identity, "content_hash", counting_ours)
    monkeypatch.setattr(dask.tokenize, "hash_buffer_hex", counting_dasks)
    return ours, dasks


@pytest.mark.parametrize("entry", ["blot", "blot_to_zarr"])
def test_each_input_in_memory_is_hashed_once(rng, big_hashes, entry):
    data = rng.standard_normal((300, 300)).astype(np.float32)
    pixmap = affine_pixmap((200, 200), angle=0.2, shift=(40.0, 30.0))
    if entry == "blot":
        tileblot.blot(data, pixmap, interp="linear", chunks=64).compute(scheduler="sync")
    else:
        tileblot.blot_to_zarr(data, pixmap, MemoryStore(), interp="linear", chunks=64,
                              progress=False)
    ours, dasks = big_hashes
    assert sorted(ours) == sorted([data.nbytes, pixmap.nbytes])
    assert dasks == []


def test_the_hash_is_a_fast_one(rng):
    # xxh3 (xxhash is a dependency), named in the digest, so that a record made by
    # another hash is told apart from a changed input.
    assert _identity.content_hash(rng.normal(size=(3, 3))).startswith("xxh3_128:")
