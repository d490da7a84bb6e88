"""The store protocol, exercised directly: listing, cross-checks, overwrite, locations.

Each test breaks one guarantee on purpose (a lost chunk, a truncated chunk, a
foreign file, a symlink, a path spelled twice) and checks the store notices.
"""

import uuid

import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore

from tileblot._io import _lock, _verify
from tileblot._io._locations import check_apart, check_distinct, store_location
from tileblot._io._maintenance import verify_output
from tileblot._io._refusals import check_output
from tileblot._io._store import (
    DONE,
    IMAGE,
    create_output,
    describe,
    finish,
    open_for_resume,
    take_output,
)
from tileblot._io._tile_writer import TileWriter
from tileblot._io._urls import output_store

SHAPE, CHUNKS = (20, 30), (10, 10)  # a 2 x 3 grid of tiles
RECORD = {"version": "test", "params": {"interp": "linear"}, "shape": list(SHAPE),
          "chunks": list(CHUNKS), "data": {"token": ["d"]}, "pixmap": {"token": ["p"]}}


def _start(store, *, fillval=0.0, overwrite=False):
    check_output(store, RECORD, overwrite=overwrite)
    owner = _lock.new_owner()
    root = take_output(store, owner)
    image, done = create_output(root, SHAPE, CHUNKS, fillval, RECORD, owner["job"])
    return image, done, root, owner["job"]


def _writer(image, done, root, job):
    return TileWriter(image, done, root, job)


def _write_all(image, done, root, job, *, value=1.0, skip=()):
    written = 0
    for ty in range(2):
        for tx in range(3):
            if (ty, tx) in skip:
                continue
            tile = np.full((10, 10), value, dtype=np.float32)
            _writer(image, done, root, job)(tile, ty, tx, tile.size)
            written += 1
    return written


@pytest.fixture(params=["local", "file-url", "memory", "memory-url", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return tmp_path / "out.zarr"
    if request.param == "file-url":  # a local path in every respect
        return f"file://{tmp_path}/out.zarr"
    if request.param == "memory":
        return zarr.storage.MemoryStore()
    if request.param == "s3":  # moto's server on loopback, as blot_to_zarr opens it
        bucket, options = request.getfixturevalue("s3")
        return output_store(f"{bucket}/out.zarr", storage_options=options)
    # No brackets from the test id: fsspec's delete reads them as a glob.
    return f"memory://tileblot-store-test-{uuid.uuid4().hex}"


def test_a_complete_job_passes_its_final_check(store, tmp_path):
    image, done, root, job = _start(store)
    assert _write_all(image, done, root, job) == 6
    finish(root, RECORD, job, label="out")
    if isinstance(store, str) and store.startswith("file://"):
        assert isinstance(root.store, zarr.storage.LocalStore)
        assert (tmp_path / "out.zarr" / IMAGE / "c" / "1" / "2").is_file()
    info = describe(store)
    assert info["complete"] and info["tiles_done"] == 6 and info["tiles_missing_chunk"] == []
    assert info["lock"] is None  # released at the end


def test_the_final_check_counts_missing_tiles(store):
    image, done, root, job = _start(store)
    _write_all(image, done, root, job, skip={(0, 1), (1, 2)})
    with pytest.raises(RuntimeError, match=r"2 of 6 tiles are missing.*not shared"):
        finish(root, RECORD, job, label="out")
    assert _lock.read_lock(root) is None  # released even when the check fails


def test_fill_only_tiles_still_have_their_chunk(store):
    # zarr skips chunks equal to the fill value by default; a done tile must
    # have its chunk, or the listing could not tell it from a lost one.
    image, done, root, job = _start(store, fillval=-5.0)
    _write_all(image, done, root, job, value=-5.0)
    state = _verify.scan(root, done.shape)
    assert state.chunk.all() and state.recorded.all()
    finish(root, RECORD, job, label="out")


def test_a_record_whose_chunk_is_gone_is_not_done(store):
    image, done, root, job = _start(store)
    _write_all(image, done, root, job)
    finish(root, RECORD, job, label="out")
    zarr.core.sync.sync(root.store.delete(f"{IMAGE}/c/1/0"))
    info = describe(store)
    assert info["tiles_done"] == 5 and not info["complete"]
    assert info["tiles_missing_chunk"] == [[1, 0]]
    owner = _lock.new_owner()
    image, done, todo = open_for_resume(take_output(store, owner))
    assert todo.sum() == 1 and todo[1, 0]


def _truncate_chunk(path, ty, tx):
    chunk = path / IMAGE / "c" / str(ty) / str(tx)
    chunk.write_bytes(chunk.read_bytes()[:7])


def test_verify_finds_and_repairs_a_truncated_chunk(tmp_path, rng):
    path = tmp_path / "out.zarr"
    image, done, root, job = _start(path)
    for ty in range(2):
        for tx in range(3):
            tile = rng.normal(size=(10, 10)).astype(np.float32)
            _writer(image, done, root, job)(tile, ty, tx, tile.size)
    finish(root, RECORD, job, label="out")
    _truncate_chunk(path, 0, 2)
    assert describe(path)["complete"]  # the listing alone cannot see it...
    report = verify_output(path)  # ...decoding can
    assert report["tiles_corrupt"] == [[0, 2]] and report["tiles_done"] == 5
    assert not report["repaired"] and (path / DONE / "c" / "0" / "2").exists()
    assert verify_output(path, repair=True)["repaired"]
    assert not (path / DONE / "c" / "0" / "2").exists()
    assert describe(path)["tiles_done"] == 5
    assert verify_output(path)["tiles_corrupt"] == []


def test_repair_forgets_only_what_is_still_broken_once_it_holds_the_store(tmp_path,
                                                                         monkeypatch):
    path = tmp_path / "out.zarr"
    image, done, root, job = _start(path)
    _write_all(image, done, root, job, value=3.0)
    finish(root, RECORD, job, label="out")
    _truncate_chunk(path, 0, 2)
    acquire = _lock.acquire

    def another_job_redoes_the_tile_first(*args, **kwargs):
        # Between repair's first scan and its lock, a resumed job rewrites the tile.
        monkeypatch.setattr(_lock, "acquire", acquire)
        owner = _lock.new_owner()
        held = take_output(path, owner)
        image, done, _ = open_for_resume(held, verify=True)
        tile = np.full((10, 10), 3.0, dtype=np.float32)
        _writer(image, done, held, owner["job"])(tile, 0, 2, tile.size)
        _lock.release(held, owner["job"])
        return acquire(*args, **kwargs)

    monkeypatch.setattr(_lock, "acquire", another_job_redoes_the_tile_first)
    report = verify_output(path, repair=True)
    assert report["tiles_corrupt"] == [] and not report["repaired"]
    assert describe(path)["tiles_done"] == 6  # the fresh tile is kept
    assert verify_output(path)["tiles_corrupt"] == []


def test_resume_with_verify_recomputes_corrupt_tiles(tmp_path):
    path = tmp_path / "out.zarr"
    image, done, root, job = _start(path)
    _write_all(image, done, root, job, value=3.0)
    finish(root, RECORD, job, label="out")
    _truncate_chunk(path, 1, 1)
    owner = _lock.new_owner()
    assert not open_for_resume(take_output(path, owner))[2].any()
    _lock.release(root, owner["job"])
    owner = _lock.new_owner()
    image, done, todo = open_for_resume(take_output(path, owner), verify=True)
    assert todo.sum() == 1 and todo[1, 1]


def _failing_reads(error):
    class FailingStore(LocalStore):
        """A local store whose reads of the image's chunks fail as an object store's can."""

        async def get(self, key, prototype, byte_range=None):
            if key.startswith(f"{IMAGE}/c/"):
                raise error
            return await super().get(key, prototype, byte_range)

    return FailingStore


def _transport_errors():
    errors = [TimeoutError("reading timed out")]
    botocore = pytest.importorskip("botocore.exceptions")
    aiohttp = pytest.importorskip("aiohttp")
    # s3fs passes these on as they are: not OSErrors.
    errors += [botocore.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
               aiohttp.ServerDisconnectedError()]
    return errors


@pytest.mark.parametrize("error", _transport_errors(), ids=lambda e: type(e).__name__)
def test_a_read_that_fails_is_raised_and_never_taken_for_damage(tmp_path, error):
    # A timeout, or an object store out of reach, says nothing of the tile: verify must not
    # report it corrupt, and neither a repair nor a resume with verify may forget a healthy
    # tile for it.
    path = tmp_path / "out.zarr"
    image, done, root, job = _start(path)
    _write_all(image, done, root, job, value=3.0)
    finish(root, RECORD, job, label="out")
    failing = _failing_reads(error)(str(path))
    with pytest.raises(type(error)):
        verify_output(failing)
    with pytest.raises(type(error)):
        verify_output(failing, repair=True)
    owner = _lock.new_owner()
    held = take_output(failing, owner)
    with pytest.raises(type(error)):
        open_for_resume(held, verify=True)
    _lock.release(held, owner["job"])
    assert describe(path)["tiles_done"] == 6
    assert verify_output(path)["tiles_corrupt"] == []


def test_overwrite_removes_only_what_tileblot_wrote(tmp_path):
    path = tmp_path / "out.zarr"
    image, done, root, job = _start(path)
    _write_all(image, done, root, job)
    finish(root, RECORD, job, label="out")
    (path / "notes.txt").write_text("mine")
    (path / "extra").mkdir()
    (path / "extra" / "data.bin").write_bytes(b"\0")
    with pytest.raises(ValueError, match="already exists"):
        check_output(path, RECORD)
    image, done, root, job = _start(path, overwrite=True)
    assert (path / "notes.txt").read_text() == "mine"
    assert (path / "extra" / "data.bin").exists()
    assert not (path / IMAGE / "c").exists()  # the old tiles are gone
    assert _verify.scan(root, done.shape).recorded.sum() == 0


def test_a_symlinked_output_is_refused_clearly(tmp_path):
    real = tmp_path / "real.zarr"
    _start(real)
    link = tmp_path / "link.zarr"
    link.symlink_to(real)
    for kwargs in ({"overwrite": True}, {"resume": True}):
        with pytest.raises(ValueError, match="symbolic link"):
            check_output(link, RECORD, **kwargs)
    assert (real / "zarr.json").exists()


def test_one_store_spelled_two_ways_is_one_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    spellings = ["o.zarr", tmp_path / "o.zarr", "sub/../o.zarr", f"file://{tmp_path}/o.zarr"]
    assert len({store_location(s) for s in spellings}) == 1
    with pytest.raises(ValueError, match="same output"):
        check_distinct(["a.zarr", "o.zarr", str(tmp_path / "sub" / ".." / "o.zarr")])
    memory = zarr.storage.MemoryStore()
    with pytest.raises(ValueError, match="same output"):
        check_distinct([memory, memory])
    check_distinct([zarr.storage.MemoryStore(), zarr.storage.MemoryStore(), "o.zarr"])


def test_inputs_inside_the_output_are_refused(tmp_path):
    out = tmp_path / "chain.zarr"
    inner = zarr.create_array(out / "image", shape=(4, 4), dtype="f4")
    with pytest.raises(ValueError, match=r"data .* inside the output store"):
        check_apart(out, {"data": inner})
    with pytest.raises(ValueError, match=r"pixmap .* inside"):
        check_apart(str(out), {"pixmap": str(out / "pixmap.npy")})
    with pytest.raises(ValueError, match=r"WCS file .* inside"):
        check_apart(out, {"WCS file": f"{out}/exposure.fits[1]"})
    # Neighbours with a common prefix are not inside.
    check_apart(out, {"data": str(tmp_path / "chain.zarr2"), "pixmap": None})
    check_apart(out, {"data": np.zeros((3, 3))})


def test_listing_is_one_request_whatever_the_number_of_tiles(tmp_path):
    # The end-of-job check must not read per tile: count the store's requests.
    path = tmp_path / "out.zarr"
    check_output(path, RECORD)
    owner = _lock.new_owner()
    root = take_output(path, owner)
    create_output(root, (400, 400), (4, 4), 0.0, RECORD, owner["job"])  # 10^4 tiles
    logging = zarr.storage.LoggingStore(root.store)
    counts = logging.counter
    root = zarr.storage.StorePath(logging, root.path)
    _verify.scan(root, (100, 100))
    assert counts["list_prefix"] == 1 and counts["get"] == 0


def test_the_local_walk_lists_what_zarr_lists(tmp_path):
    image, done, root, job = _start(tmp_path / "out.zarr")
    _write_all(image, done, root, job, skip={(1, 1)})

    async def collect():
        return [key async for key in root.store.list_prefix("")]

    assert sorted(_verify.list_keys(root, "")) == sorted(zarr.core.sync.sync(collect()))
    assert sorted(_verify.list_keys(root, "image/")) == sorted(
        k for k in zarr.core.sync.sync(collect()) if k.startswith("image/"))
