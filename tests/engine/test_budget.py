"""The memory budget: what a task may hold, bands of a tile, ``chunks="auto"``."""

import itertools

import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster

from tileblot._engine import _budget
from tileblot._engine._budget import (
    auto_tile,
    band_rows,
    cache_budget,
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


@pytest.mark.slow
def test_budget_follows_the_workers_memory_limit():
    # A real worker of 400 MB with 2 threads: an eighth of 200 MB per thread.
    with LocalCluster(n_workers=1, threads_per_worker=2, memory_limit="400MB", processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        task, cache = client.submit(lambda: (task_budget(), cache_budget())).result()
    assert task == int(0.125 * 400e6 / 2)
    assert cache == int(0.125 * 400e6)


def _reads_cover(pixmap, rows, window, shape, halo):
    bbox = coordinate_bbox(pixmap[rows], shape, "high")
    if bbox is None:
        return window is None
    return window == window_for(bbox, halo, shape)


@pytest.mark.parametrize("scale", [1.0, 5.0])
@pytest.mark.parametrize("budget", [10**4, 10**5, 10**9])
def test_bands_partition_the_tile_and_each_fits(scale, budget):
    shape = (2000, 2000)
    pixmap = canonical_pixmap(affine_pixmap((64, 48), scale=scale, angle=0.4, shift=(300.0, 20.0)))
    bands = band_rows(pixmap, shape, 3, "high", budget, 8)
    rows = [r for r, _ in bands]
    assert rows[0].start == 0 and rows[-1].stop == 64
    assert all(a.stop == b.start for a, b in itertools.pairwise(rows))
    for r, window in bands:
        assert _reads_cover(pixmap, r, window, shape, 3)
        nrows = r.stop - r.start
        if nrows > 1 and window is not None:
            assert tile_bytes(nrows, 48, 8, window.shape, 8) <= budget
    if budget == 10**9:
        assert len(bands) == 1


def test_bands_of_a_tile_that_misses_the_image_have_no_window():
    pixmap = canonical_pixmap(affine_pixmap((16, 16), shift=(-500.0, 0.0)))
    assert band_rows(pixmap, (100, 100), 2, "high", 10, 8) == [(slice(0, 16), None)]


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
