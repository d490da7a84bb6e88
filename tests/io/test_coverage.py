"""The store's coverage record: each tile's count in its record, a total once complete."""

import numpy as np
import pytest
import zarr

from tileblot._engine._plan import Tiling
from tileblot._io import _coverage, _lock
from tileblot._io._refusals import check_output
from tileblot._io._store import (
    create_output,
    describe,
    finish,
    open_for_resume,
    take_output,
)
from tileblot._io._tile_writer import TileWriter

SHAPE, CHUNKS = (20, 25), (10, 10)  # 2 x 3 tiles; the last column is 5 wide
RECORD = {"version": "test", "params": {"interp": "linear", "fillval": 0.0},
          "shape": list(SHAPE), "chunks": list(CHUNKS), "data": {"token": ["d"]},
          "pixmap": {"token": ["p"]}}
TILING = Tiling(((10, 10), (10, 10, 5)))
# Pixels on the mosaic per tile, as a tile task would count them.
COUNTS = np.array([[100, 37, 0], [0, 5, 50]])


def _start(store):
    check_output(store, RECORD)
    owner = _lock.new_owner()
    root = take_output(store, owner)
    image, done = create_output(root, SHAPE, CHUNKS, 0.0, RECORD, owner["job"])
    return TileWriter(image, done, root, owner["job"]), root, owner


def _write(writer, tiles):
    for ty, tx in tiles:
        tile = np.zeros((TILING.chunks[0][ty], TILING.chunks[1][tx]), dtype=np.float32)
        writer(tile, ty, tx, int(COUNTS[ty, tx]))


ALL = [(ty, tx) for ty in range(2) for tx in range(3)]


def test_tile_pixels_follow_the_edge_tiles():
    np.testing.assert_array_equal(_coverage.tile_pixels(SHAPE, CHUNKS),
                                  [[100, 100, 50], [100, 100, 50]])


def test_a_partial_store_reports_the_tiles_done_so_far(tmp_path):
    store = tmp_path / "out.zarr"
    writer, root, owner = _start(store)
    assert describe(store)["coverage"]["fraction"] is None  # nothing done yet
    _write(writer, [(0, 0), (0, 1), (1, 2)])
    coverage = describe(store)["coverage"]
    assert coverage == {"onimage": 100 + 37 + 50, "pixels": 100 + 100 + 50,
                        "fraction": 187 / 250, "tiles_counted": 3, "tiles": 6,
                        "partial": True}
    _lock.release(root, owner["job"])


def test_a_complete_job_records_its_total_and_info_reads_only_that(tmp_path):
    store = tmp_path / "out.zarr"
    writer, root, owner = _start(store)
    _write(writer, ALL)
    entry = finish(root, RECORD, owner["job"], label="out", onimage=int(COUNTS.sum()))
    assert entry["onimage"] == 192 and entry["pixels"] == 500 and not entry["partial"]
    records = zarr.open_group(store, mode="r")[_coverage.DONE]
    assert records.attrs["tileblot"] == {"onimage": 192, "pixels": 500}
    # The records carry each tile's count, and agree with the total...
    np.testing.assert_array_equal(records[...], COUNTS + 1)
    # ...and a complete store is described from the total alone: tamper with a
    # tile's count and describe does not read it.
    zarr.open_group(store, mode="r+")[_coverage.DONE][0, 0] = 7
    assert describe(store)["coverage"]["onimage"] == 192


def test_a_resumed_job_reads_the_counts_of_the_tiles_done_before(tmp_path):
    store = tmp_path / "out.zarr"
    writer, root, owner = _start(store)
    _write(writer, ALL[:4])  # interrupted after four tiles
    _lock.release(root, owner["job"])
    owner = _lock.new_owner()
    root = take_output(store, owner)
    image, done, todo = open_for_resume(root)
    assert todo.sum() == 2
    _write(TileWriter(image, done, root, owner["job"]), ALL[4:])
    entry = finish(root, RECORD, owner["job"], label="out")  # no count: read the tiles'
    assert (entry["onimage"], entry["pixels"], entry["partial"]) == (192, 500, False)
    assert describe(store)["coverage"]["fraction"] == pytest.approx(192 / 500)


def test_a_store_from_before_the_count_has_no_coverage(tmp_path):
    store = tmp_path / "out.zarr"
    writer, root, owner = _start(store)
    _write(writer, ALL)
    _lock.release(root, owner["job"])
    group = zarr.open_group(store, mode="r+")  # tiles_done as tileblot 0.1 wrote it
    del group[_coverage.DONE]
    group.create_array(_coverage.DONE, shape=(2, 3), chunks=(1, 1), dtype=np.uint8,
                       fill_value=0)[...] = 1
    info = describe(store)
    assert info["complete"] and info["coverage"] is None
    # Resumed by this version, such a store keeps its records of 1 (no overflow).
    zarr.open_group(store, mode="r+")[_coverage.DONE][1, 1] = 0
    owner = _lock.new_owner()
    root = take_output(store, owner)
    image, done, todo = open_for_resume(root)
    assert todo.sum() == 1
    _write(TileWriter(image, done, root, owner["job"]), [(1, 1)])
    assert finish(root, RECORD, owner["job"], label="out") is None
    info = describe(store)
    assert info["complete"] and info["coverage"] is None


def test_overwrite_removes_the_counts(tmp_path):
    store = tmp_path / "out.zarr"
    writer, root, owner = _start(store)
    _write(writer, ALL)
    finish(root, RECORD, owner["job"], label="out", onimage=192)
    check_output(store, RECORD, overwrite=True)
    owner = _lock.new_owner()
    root = take_output(store, owner)
    create_output(root, SHAPE, CHUNKS, 0.0, RECORD, owner["job"])
    records = zarr.open_group(store, mode="r")[_coverage.DONE]
    assert "tileblot" not in records.attrs and (records[...] == 0).all()
    _lock.release(root, owner["job"])
