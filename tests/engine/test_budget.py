"""The memory budget: what a task may hold, bands of a tile, ``chunks="auto"``."""

import math

import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster

import tileblot
from tileblot._api._plan import plan_blot
from tileblot._engine import _budget
from tileblot._engine._budget import (
    MIN_TILE,
    auto_tile,
    cache_budget,
    pieces,
    pixmap_extent,
    sampled_extent,
    task_budget,
    tile_bytes,
)
from tileblot._engine._planning import coordinate_bbox, window_for
from tileblot._kernels._canonical import canonical_pixmap

from ..helpers import affine_pixmap


def test_budget_follows_dask_configuration():
    with dask.config.set({"array.chunk-size": "64MiB"}):
        assert task_budget() == 64 << 20
    with dask.config.set({"tileblot.task-memory": "10MB", "array.chunk-size": "64MiB"}):
        assert task_budget() == 10_000_000
    with dask.config.set({"tileblot.chunk-cache": "3MiB"}):
        assert cache_budget() == 3 << 20
    assert 0 < cache_budget() <= _budget.MAX_CACHE


@pytest.mark.parametrize("key", ["tileblot.task-memory", "tileblot.chunk-cache"])
@pytest.mark.parametrize("value", [0, -5, "lots", True, [1]])
def test_a_nonsense_budget_is_named_before_any_work(rng, key, value):
    import tileblot

    data = rng.standard_normal((20, 20)).astype(np.float32)
    with dask.config.set({key: value}), pytest.raises(
            ValueError, match=f"dask setting {key} must be a positive size in bytes"):
        tileblot.blot(data, affine_pixmap((8, 8)), chunks=4)


@pytest.mark.slow
def test_budget_follows_the_workers_memory_limit():
    # A real worker of 400 MB with 2 threads: an eighth of 200 MB per thread.
    with LocalCluster(n_workers=1, threads_per_worker=2, memory_limit="400MB", processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        task, cache = client.submit(lambda: (task_budget(), cache_budget())).result()
    assert task == int(0.125 * 400e6 / 2)
    assert cache == int(0.125 * 400e6)


def _reads_cover(pixmap, rows, cols, window, shape, halo):
    bbox = coordinate_bbox(pixmap[rows, cols], shape, "high")
    if bbox is None:
        return window is None
    return window == window_for(bbox, halo, shape)


@pytest.mark.parametrize("angle", [0.4, np.pi / 4])
@pytest.mark.parametrize("scale", [1.0, 5.0, 20.0])
@pytest.mark.parametrize("budget", [10**5, 10**6, 10**9])
def test_pieces_partition_the_tile_and_each_fits(scale, angle, budget):
    """Every piece but a single pixel fits what the budget leaves beside the tile's own
    pixmap and output (at least a quarter of it); a rotated exposure at a large scale is cut
    along both sides, so its windows shrink."""
    shape = (4000, 4000)
    pixmap = canonical_pixmap(affine_pixmap((64, 48), scale=scale, angle=angle,
                                            shift=(1500.0, 1000.0)))
    found = pieces(pixmap, shape, 3, "high", budget, 8)
    room = max(budget - tile_bytes(64, 48, 8, (0, 0), 8), budget // 4)
    covered = np.zeros(pixmap.shape[:2], int)
    read = 0
    for rows, cols, window in found:
        covered[rows, cols] += 1
        assert _reads_cover(pixmap, rows, cols, window, shape, 3)
        nrows, ncols = rows.stop - rows.start, cols.stop - cols.start
        if window is not None:
            read += window.shape[0] * window.shape[1] * 8
            if nrows * ncols > 1:
                extra = 0 if ncols == 48 else 4 * nrows * ncols
                assert window.shape[0] * window.shape[1] * 8 + extra <= room
    assert (covered == 1).all()
    if budget == 10**9:
        assert len(found) == 1
    if budget == 10**5 and scale == 20.0:
        assert any(cols != slice(0, 48) for _, cols, _ in found)
        # Halving the longer side: the windows together are about the tile's footprint
        # (bands of one row each read about one row's square, 64 times over).
        footprint = (64 + 48) ** 2 * scale**2 * 8
        assert read < 4 * footprint


def test_a_row_with_two_far_apart_coordinates_is_cut_down_to_its_pixels():
    pixmap = np.full((1, 8, 2), 50.0)
    pixmap[0, 0] = (1.0, 1.0)
    pixmap[0, 7] = (3998.0, 3998.0)  # one row spanning the whole mosaic
    found = pieces(canonical_pixmap(pixmap), (4000, 4000), 2, "high", 10**4, 8)
    _, first_cols, _ = found[0]
    assert (first_cols.start, first_cols.stop) == (0, 1)
    assert all(window.shape[0] * window.shape[1] * 8 <= 10**4 for _, _, window in found)


def test_pieces_of_a_tile_that_misses_the_image_have_no_window():
    pixmap = canonical_pixmap(affine_pixmap((16, 16), shift=(-500.0, 0.0)))
    assert pieces(pixmap, (100, 100), 2, "high", 10, 8) == [(slice(0, 16), slice(0, 16), None)]


def test_auto_tile_fits_the_budget_and_shrinks_with_scale():
    budget = 128 << 20
    sides = []
    for scale in (0.5, 1.0, 2.0, 5.0, 20.0):
        jac = scale * np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
        dy, dx = pixmap_extent(jac)
        side = auto_tile(budget, (dy, dx), 3, 8, 4)
        assert side % 128 == 0 and 128 <= side <= 4096
        window = (int(side * dy) + 8, int(side * dx) + 8)
        assert side == 128 or tile_bytes(side, side, 8, window, 4) <= budget
        sides.append(side)
    assert sides == sorted(sides, reverse=True) and sides[0] > sides[-1]


@pytest.mark.parametrize("interp", ["nearest", "linear", "poly5", "lan3", "sinc"])
@pytest.mark.parametrize("precision", ["drizzle", "high"])
def test_a_budget_that_forces_bands_gives_the_same_bits(rng, interp, precision):
    import tileblot

    from ..helpers import RecordingSource

    data = rng.standard_normal((300, 300)).astype(np.float32)
    pixmap = affine_pixmap((60, 60), scale=3.0, angle=0.3, shift=(40.0, 10.0))
    pixmap[7, 3] = (1.5, 1.5)  # two far-apart coordinates in one row: cut into columns
    pixmap[7, 50] = (297.5, 297.5)
    eager = tileblot.blot_image(data, pixmap, interp=interp, precision=precision)
    source = RecordingSource(data)
    budget = 60_000
    with dask.config.set({"tileblot.task-memory": budget, "scheduler": "sync"}):
        tiled = tileblot.blot(source, pixmap, interp=interp, precision=precision,
                              chunks=30).compute()
    np.testing.assert_array_equal(tiled, eager)
    assert len(source.reads) > 4  # 4 tiles, read in several bands each
    itemsize = 4 if precision == "drizzle" else 8
    for y0, y1, x0, x1 in source.reads:
        assert (y1 - y0) * (x1 - x0) * itemsize <= budget


def test_sampled_extent_reads_the_pixmaps_scale():
    pixmap = affine_pixmap((50, 40), scale=3.0, angle=0.0)
    assert sampled_extent(pixmap) == pytest.approx((3.0, 3.0))
    pixmap[20:30] = np.nan  # the centre off the sky: a corner is used
    assert sampled_extent(pixmap) == pytest.approx((3.0, 3.0))
    assert sampled_extent(np.full((4, 4, 2), np.nan)) == (1.0, 1.0)


@pytest.mark.parametrize(("scale", "budget"), [(1.0, "32MiB"), (5.0, "32MiB"), (1.0, "1GiB")])
def test_auto_chunks_follow_the_budget_and_the_scale(rng, scale, budget):
    import dask.array as da

    import tileblot

    data = rng.standard_normal((64, 64)).astype(np.float32)
    pixmap = da.from_array(affine_pixmap((3000, 2000), scale=scale, shift=(-5.0, -5.0)),
                           chunks=1000)
    with dask.config.set({"tileblot.task-memory": budget}):
        lazy = tileblot.blot(data, pixmap, interp="linear", chunks="auto")
        expected = auto_tile(task_budget(), (scale, scale), 1, 8, 4)  # float32 window
    assert lazy.chunks[0][0] == min(expected, 3000)
    assert lazy.chunks[1][0] == min(expected, 2000)
    with pytest.raises(ValueError, match="'auto'"):
        tileblot.blot(data, pixmap, chunks="big")


def test_auto_chunks_under_a_client_fit_its_workers_budget(rng, tmp_path):
    """Chosen in the client's process, whose budget is dask's chunk size (128 MiB): 300 MB
    workers (37.5 MB a task) got tiles whose pixmap and output alone held 2.8 times that."""
    data = rng.standard_normal((64, 64)).astype(np.float32)
    pixmap = affine_pixmap((3000, 2000), scale=5.0)
    alone = tileblot.blot(data, pixmap, interp="linear", chunks="auto").chunks[0][0]
    with LocalCluster(n_workers=1, threads_per_worker=2, memory_limit="600MB", processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        worker = next(iter(client.scheduler_info()["workers"].values()))
        budget = task_budget((worker["memory_limit"], 2))
        expected = auto_tile(budget, (5.0, 5.0), 1, 8, 4)
        assert budget < 40e6 and expected < alone
        assert tileblot.blot(data, pixmap, interp="linear", chunks="auto").chunks[0][0] == expected
        plan = plan_blot(data, pixmap, interp="linear", fillval=0.0, iscale=1.0,
                         precision="high", chunks="auto", client=client)
        assert plan.tiling.tile == (expected, expected)


@pytest.mark.parametrize("sentinel", [1e155, 1e300, np.finfo(np.float64).max])
def test_auto_tiles_from_a_pixmap_with_a_huge_sentinel(sentinel):
    # Its differences overflowed to inf (or inf - inf): int(nan) or int(inf) came out of
    # the choice of tile size, where the same pixmap blots with any other chunks.
    data = np.arange(64.0).reshape(8, 8)
    pixmap = np.zeros((2, 2, 2))
    pixmap[0, 1] = (sentinel, 0.0)
    pixmap[1] = ((3.5, 2.0), (-sentinel, 1.0))
    expected = tileblot.blot_image(data, pixmap, interp="linear", precision="high")
    np.testing.assert_array_equal(
        tileblot.blot(data, pixmap, interp="linear", chunks="auto").compute(), expected)
    for extent in ((math.inf, 1.0), (sentinel, 2.0), (sentinel, sentinel)):
        assert auto_tile(1 << 27, extent, 2, 8, 4) == MIN_TILE
