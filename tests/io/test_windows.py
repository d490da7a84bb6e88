"""The chunk cache and cached windows: each chunk decoded once, memory bounded, same bits."""

import contextlib
import os
import pickle
import shutil
import threading
import time
from collections import Counter
from typing import ClassVar

import dask
import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr.storage import LocalStore, MemoryStore, WrapperStore

import tileblot
from tileblot._engine._planning import Window
from tileblot._io import _windows
from tileblot._io._identity import identify
from tileblot._io._windows import CachedChunks, ChunkCache, cached

from ..helpers import affine_pixmap


class CountingStore(WrapperStore):
    """Counts the chunk reads that reach the store."""

    def __init__(self, store):
        super().__init__(store)
        self.reads = Counter()

    def _with_store(self, store):
        other = type(self)(store)
        other.reads = self.reads
        return other

    async def get(self, key, prototype, byte_range=None):
        if key.startswith("c/") or "/c/" in key:  # chunk keys, not metadata
            self.reads[key] += 1
        return await super().get(key, prototype, byte_range)


class CountingLocalStore(LocalStore):
    """A local store (identified by its files' stamps, not by content) counting chunk reads."""

    reads: ClassVar[Counter] = Counter()

    async def get(self, key, prototype, byte_range=None):
        if key.startswith("c/") or "/c/" in key:
            CountingLocalStore.reads[key] += 1
        return await super().get(key, prototype, byte_range)


@pytest.fixture
def fresh_cache(monkeypatch):
    """A process cache of its own for the test (so other tests' chunks do not count), with
    ``tileblot.chunk-cache`` set to its size (the cache follows the setting on every use)."""
    with contextlib.ExitStack() as settings:
        def make(max_bytes=64 << 20):
            cache = ChunkCache(max_bytes)
            monkeypatch.setattr(_windows, "_PROCESS_CACHE", cache)
            settings.enter_context(dask.config.set({"tileblot.chunk-cache": max_bytes}))
            return cache
        yield make


def counted_array(data, chunks):
    store = CountingStore(MemoryStore())
    zarr.create_array(store, data=data, chunks=chunks)
    store.reads.clear()
    return zarr.open_array(store, mode="r"), store.reads


def test_cache_is_bounded_and_least_recently_used_goes_first():
    cache = ChunkCache(3 * 800)
    for k in range(3):
        cache.get(k, lambda: np.zeros(100))  # 800 bytes each
    cache.get(0, lambda: pytest.fail("0 is cached"))
    cache.get(3, lambda: np.zeros(100))  # evicts 1, the least recently used
    assert cache.nbytes <= cache.max_bytes
    assert len(cache) == 3
    decoded = []
    cache.get(1, lambda: decoded.append(1) or np.zeros(100))
    assert decoded == [1]
    cache.get(5, lambda: np.zeros(1000))  # bigger than the whole cache: not kept
    assert cache.nbytes <= cache.max_bytes
    assert len(cache) == 3


def test_the_process_cache_follows_the_setting_of_each_job(monkeypatch):
    """A notebook's second job with its own ``tileblot.chunk-cache``: the cache that the
    first job made takes the new size (it kept the first size for good before)."""
    monkeypatch.setattr(_windows, "_PROCESS_CACHE", None)
    with dask.config.set({"tileblot.chunk-cache": "1MiB"}):
        cache = _windows.process_cache()
        for k in range(10):
            cache.get(k, lambda: np.zeros(100_000))  # 800 kB each: one fits
    assert cache.max_bytes == 1 << 20 and len(cache) == 1
    with dask.config.set({"tileblot.chunk-cache": "2MiB"}):
        assert _windows.process_cache() is cache and cache.max_bytes == 2 << 20
        cache.get(20, lambda: np.zeros(100_000))
        assert len(cache) == 2
    with dask.config.set({"tileblot.chunk-cache": "100kB"}):
        _windows.process_cache()
        assert len(cache) == 0 and cache.nbytes == 0


def test_concurrent_readers_of_one_chunk_decode_it_once():
    cache = ChunkCache(1 << 20)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return np.ones(10)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 4 and all(r is results[0] for r in results)


def test_a_failed_decode_is_retried_by_the_next_reader():
    cache = ChunkCache(1 << 20)

    def broken():
        raise OSError("flaky store")

    with pytest.raises(OSError, match="flaky"):
        cache.get("k", broken)
    assert cache.get("k", lambda: np.arange(3)).tolist() == [0, 1, 2]


@settings(max_examples=30, deadline=None)
@given(y0=st.integers(0, 69), x0=st.integers(0, 49), h=st.integers(1, 70), w=st.integers(1, 50),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_windows_equal_slices_of_the_array(y0, x0, h, w, dtype):
    data = np.arange(70 * 50, dtype=np.float32).reshape(70, 50)
    source = CachedChunks(zarr.create_array(MemoryStore(), data=data, chunks=(16, 12)), "t")
    window = Window(y0, min(y0 + h, 70), x0, min(x0 + w, 50))
    array, wy, wx = source.read_window(window, dtype)
    assert array.dtype == dtype
    got = array[window.y0 - wy : window.y1 - wy, window.x0 - wx : window.x1 - wx]
    np.testing.assert_array_equal(got, data[window.slices].astype(dtype))
    np.testing.assert_array_equal(source[window.slices], data[window.slices])


def test_a_window_inside_one_chunk_is_the_cached_chunk(fresh_cache):
    fresh_cache()
    data = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    source = CachedChunks(zarr.create_array(MemoryStore(), data=data, chunks=(32, 32)), "t")
    first, y0, x0 = source.read_window(Window(35, 40, 2, 9))
    again, _, _ = source.read_window(Window(40, 60, 0, 30))
    assert (y0, x0) == (32, 0) and first.shape == (32, 32)
    assert again is first


def test_each_chunk_is_decoded_once_for_overlapping_windows(fresh_cache):
    fresh_cache()
    data = np.arange(96 * 96, dtype=np.float32).reshape(96, 96)
    array, reads = counted_array(data, (32, 32))
    source = CachedChunks(array, "t")
    for y in range(0, 90, 10):
        for x in range(0, 90, 10):
            source.read_window(Window(y, y + 17, x, x + 17))
    assert len(reads) == 9
    assert set(reads.values()) == {1}


def test_a_small_cache_bounds_memory_and_still_gives_the_right_data(fresh_cache):
    cache = fresh_cache(2 * 32 * 32 * 4)  # two chunks
    data = np.arange(96 * 96, dtype=np.float32).reshape(96, 96)
    array, reads = counted_array(data, (32, 32))
    source = CachedChunks(array, "t")
    for y in range(0, 90, 10):
        window = Window(y, min(y + 17, 96), 0, 96)
        got, _, _ = source.read_window(window)
        np.testing.assert_array_equal(got, data[window.slices])
        assert cache.nbytes <= cache.max_bytes
    assert sum(reads.values()) > 9  # it had to decode some chunks again


def test_tokens_keep_sources_apart(fresh_cache):
    fresh_cache()
    a = zarr.create_array(MemoryStore(), data=np.zeros((8, 8), np.float32), chunks=(4, 4))
    b = zarr.create_array(MemoryStore(), data=np.ones((8, 8), np.float32), chunks=(4, 4))
    window = Window(0, 8, 0, 8)
    assert CachedChunks(a, "a").read_window(window)[0].sum() == 0
    assert CachedChunks(b, "b").read_window(window)[0].sum() == 64



def test_a_mosaic_replaced_by_one_with_the_same_sizes_and_times_is_decoded_again(
        tmp_path, fresh_cache):
    # As cp -p or rsync -a put it in place: the stamp (sizes, modification times) is the
    # same, and this process holds the first mosaic's chunks decoded.
    fresh_cache()
    first = np.arange(64.0, dtype=np.float32).reshape(8, 8)
    for name, values in (("a.zarr", first), ("b.zarr", -first)):
        zarr.create_array(tmp_path / name, data=values, chunks=(4, 4), compressors=None)
        for path in (tmp_path / name).rglob("*"):
            if path.is_file():
                os.utime(path, ns=(1_700_000_000_000_000_000,) * 2)
    mosaic = tmp_path / "mosaic.zarr"
    pixmap = affine_pixmap((8, 8), shift=(0.25, 0.25))
    # As a path, and as an array opened from a file:// URL (an fsspec store on the disk).
    for opened in (str, lambda path: zarr.open_array(path.as_uri())):
        blotted, stamps = [], []
        for name in ("a.zarr", "b.zarr"):
            shutil.rmtree(mosaic, ignore_errors=True)
            shutil.copytree(tmp_path / name, mosaic, copy_function=shutil.copy2)
            stamps.append(identify(zarr.open_array(mosaic))["stamp"])
            blotted.append(tileblot.blot(opened(mosaic), pixmap, interp="linear").compute())
        assert stamps[0] == stamps[1]  # the stamp cannot tell them apart
        np.testing.assert_array_equal(blotted[1], -blotted[0])


def test_a_mosaic_on_fsspecs_memory_filesystem_rewritten_in_place_is_decoded_again(
        fresh_cache):
    """Its listing gives neither modification times nor ETags: the chunks rewritten with the
    same sizes (uncompressed) kept the stamp, and the second blot was the first's."""
    fresh_cache()
    url = f"memory://tileblot-rewritten-{os.getpid()}.zarr"
    first = np.arange(64.0, dtype=np.float32).reshape(8, 8)
    mosaic = zarr.create_array(url, data=first, chunks=(4, 4), compressors=None)
    pixmap = affine_pixmap((8, 8), shift=(0.25, 0.25))
    before = tileblot.blot(url, pixmap, interp="linear").compute()
    mosaic[...] = 2 * first + 1
    after = tileblot.blot(url, pixmap, interp="linear").compute()
    np.testing.assert_array_equal(
        after, tileblot.blot_image(2 * first + 1, pixmap, interp="linear", precision="high"))
    assert not np.array_equal(after, before)


@pytest.fixture
def http_folder(tmp_path):
    """``(folder, url)``: a real HTTP server on loopback serving ``folder``."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_mosaic_over_http_rewritten_in_place_is_decoded_again(http_folder, fresh_cache):
    """An HTTP server's listing gives no modification times, ETags or sizes: no job is
    served the chunks another decoded."""
    pytest.importorskip("aiohttp")
    fresh_cache()
    folder, server = http_folder
    first = np.arange(64.0, dtype=np.float32).reshape(8, 8)
    mosaic = zarr.create_array(folder / "m.zarr", data=first, chunks=(4, 4), compressors=None)
    pixmap = affine_pixmap((8, 8), shift=(0.25, 0.25))
    before = tileblot.blot(f"{server}/m.zarr", pixmap, interp="linear").compute()
    mosaic[...] = 2 * first + 1
    after = tileblot.blot(f"{server}/m.zarr", pixmap, interp="linear").compute()
    np.testing.assert_array_equal(
        before, tileblot.blot_image(first, pixmap, interp="linear", precision="high"))
    np.testing.assert_array_equal(
        after, tileblot.blot_image(2 * first + 1, pixmap, interp="linear", precision="high"))


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_mosaic_chunk_is_an_error_naming_the_input_and_the_chunk(
        rng, tmp_path, fresh_cache, damage):
    fresh_cache()
    data = rng.standard_normal((60, 60)).astype(np.float32)
    zarr.create_array(tmp_path / "m.zarr", data=data, chunks=(32, 32))
    chunk = tmp_path / "m.zarr" / "c" / "1" / "0"
    raw = chunk.read_bytes()
    chunk.write_bytes(raw[:20] if damage == "truncated" else raw[:40] + bytes(len(raw) - 40))
    pixmap = affine_pixmap((40, 40), shift=(5.0, 10.0))
    with pytest.raises(tileblot.DamagedInputError,
                       match=r"^the zarr array file://.*m\.zarr: chunk \(1, 0\) cannot be read "
                             r"\(.*damaged there"):
        tileblot.blot(str(tmp_path / "m.zarr"), pixmap, chunks=20).compute()

def test_pickles_without_the_cache(fresh_cache):
    fresh_cache()
    data = np.ones((256, 256), np.float32)
    source = CachedChunks(zarr.create_array(MemoryStore(), data=data, chunks=(64, 64)), "t")
    source.read_window(Window(0, 256, 0, 256))
    copy = pickle.loads(pickle.dumps(source))
    assert copy.token == "t" and copy.shape == (256, 256)
    np.testing.assert_array_equal(copy[10:20, 30:40], data[10:20, 30:40])


def test_only_chunked_stores_are_wrapped():
    z = zarr.create_array(MemoryStore(), data=np.zeros((8, 8), np.float32), chunks=(4, 4))
    assert isinstance(cached(z, "t"), CachedChunks)
    array = np.zeros((8, 8))
    assert cached(array, "t") is array


@pytest.mark.parametrize("interp", ["linear", "poly5", "lan3"])
@pytest.mark.parametrize("tile", [24, 40, 80])
def test_blot_from_zarr_decodes_each_chunk_about_once_and_matches_eager(
        rng, tmp_path, fresh_cache, interp, tile):
    # Tiles smaller than, equal to and larger than the mosaic's 40 x 40 chunks.
    fresh_cache()
    data = rng.standard_normal((120, 120)).astype(np.float32)
    zarr.create_array(tmp_path / "m.zarr", data=data, chunks=(40, 40))
    array = zarr.open_array(CountingLocalStore(tmp_path / "m.zarr", read_only=True), mode="r")
    CountingLocalStore.reads.clear()
    pixmap = affine_pixmap((80, 80), angle=0.35, shift=(30.0, 5.0))
    with dask.config.set(scheduler="threads", num_workers=2):
        lazy = tileblot.blot(array, pixmap, interp=interp, chunks=tile).compute()
    eager = tileblot.blot_image(data, pixmap, interp=interp, precision="high")
    np.testing.assert_array_equal(lazy, eager)
    reads = CountingLocalStore.reads
    assert reads and set(reads.values()) == {1}


def test_dithered_exposures_share_decoded_chunks(rng, tmp_path, fresh_cache):
    fresh_cache()
    data = rng.standard_normal((120, 120)).astype(np.float32)
    zarr.create_array(tmp_path / "m.zarr", data=data, chunks=(40, 40))
    array = zarr.open_array(CountingLocalStore(tmp_path / "m.zarr", read_only=True), mode="r")
    CountingLocalStore.reads.clear()
    pixmaps = [affine_pixmap((80, 80), angle=0.35, shift=(30.0 + dx, 5.0 + dy))
               for dx, dy in [(0, 0), (3.5, 0), (0, 4.5), (3.5, 4.5)]]
    stores = [tmp_path / f"out{k}.zarr" for k in range(4)]
    with dask.config.set(scheduler="threads", num_workers=2):
        images = tileblot.blot_to_zarr(array, pixmaps, stores, interp="linear", chunks=40,
                                       progress=False)
    assert set(CountingLocalStore.reads.values()) == {1}
    for pm, image in zip(pixmaps, images, strict=True):
        eager = tileblot.blot_image(data, pm, interp="linear", precision="high")
        np.testing.assert_array_equal(image[...], eager)
