"""``_tile.blot_tile``: a tile blotted from its window equals the whole image's result."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tileblot import INTERPOLATORS, PRECISIONS, blot_image
from tileblot._engine._planning import Window
from tileblot._engine._tile import blot_tile, kernel_pixmap
from tileblot._engine._validation import make_params
from tileblot._kernels._registry import resolve

from ..strategies import affine_pixmap, grid_floats, probe_edges


def split(draw, n):
    """A random partition of ``n`` into positive block lengths."""
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=4))) if n > 1 else []
    edges = [0, *cuts, n]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def tiling_cases(draw, interp):
    min_size = resolve(interp).min_size
    shape = (draw(st.integers(min_size, 30)), draw(st.integers(min_size, 30)))
    shape_out = (draw(st.integers(1, 24)), draw(st.integers(1, 24)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pixmap = affine_pixmap(
        shape_out,
        (draw(grid_floats(-3, shape[1] + 3)), draw(grid_floats(-3, shape[0] + 3))),
        scale=draw(grid_floats(0.3, 2.5)),
        angle=draw(grid_floats(-np.pi, np.pi)),
        distortion=draw(grid_floats(0, 2)),
    )
    pixmap = probe_edges(pixmap, shape, draw(st.sampled_from([0.0, 0.2])), rng)
    pixmap[rng.random(shape_out) < 0.05] = np.nan
    rows = split(draw, shape_out[0])
    cols = split(draw, shape_out[1])
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    image = rng.normal(size=shape).astype(dtype)
    return image, pixmap, rows, cols


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_tiles_from_windows_equal_the_whole_image_bit_for_bit(interp, precision, data):
    image, pixmap, rows, cols = data.draw(tiling_cases(interp))
    params = make_params(interp=interp, fillval=-2.0, iscale=1.25, sinscl=1.0, precision=precision)
    whole = blot_image(image, pixmap, fillval=-2.0, iscale=1.25, interp=interp,
                       precision=precision, num_threads=1)
    windows = []

    def read_window(window):
        assert isinstance(window, Window)
        assert 0 <= window.y0 < window.y1 <= image.shape[0]
        assert 0 <= window.x0 < window.x1 <= image.shape[1]
        windows.append(window)
        return image[window.slices].copy(), window.y0, window.x0

    tiled = np.full(pixmap.shape[:2], np.nan, dtype=np.float32)
    row_edges = np.cumsum([0, *rows])
    col_edges = np.cumsum([0, *cols])
    for ya, yb in itertools.pairwise(row_edges):
        for xa, xb in itertools.pairwise(col_edges):
            tile = blot_tile(read_window, pixmap[ya:yb, xa:xb], image.shape, params)
            assert tile.dtype == np.float32 and tile.shape == (yb - ya, xb - xa)
            tiled[ya:yb, xa:xb] = tile
    np.testing.assert_array_equal(tiled, whole)


def test_tile_off_the_image_reads_nothing():
    params = make_params(interp="poly5", fillval=7.5, iscale=1.0, sinscl=1.0, precision="drizzle")
    pixmap = np.array([[[-1.0, 2.0], [np.nan, 3.0], [2.0, 10.0], [np.inf, 1.0]]])

    def read_window(window):
        raise AssertionError("read_window called for a tile off the image")

    out = blot_tile(read_window, pixmap, (10, 10), params)
    np.testing.assert_array_equal(out, 7.5)


def test_blot_tile_writes_into_out(rng):
    image = rng.normal(size=(12, 12)).astype(np.float32)
    pixmap = affine_pixmap((4, 5), (6.0, 6.0), 1.0, 0.2)
    params = make_params(interp="lan3", fillval=0.0, iscale=1.0, sinscl=1.0, precision="high")
    out = np.zeros((4, 5), np.float32)
    got = blot_tile(lambda w: (image, 0, 0), pixmap, image.shape, params, out=out)
    assert got is out
    np.testing.assert_array_equal(out, blot_image(image, pixmap, interp="lan3", precision="high"))


@pytest.mark.parametrize("dtype", [">f8", ">f4", "<i4", "<f2"])
def test_a_pixmap_tile_the_kernels_cannot_read_is_copied_into_the_threads_own_buffer(dtype):
    whole = np.arange(6 * 10 * 2, dtype=dtype).reshape(6, 10, 2)
    with kernel_pixmap(whole[1:4, 2:6]) as first:
        assert first.flags.c_contiguous and first.dtype.isnative
        assert first.dtype == (np.float32 if dtype in (">f4", "<f2") else np.float64)
        np.testing.assert_array_equal(first, whole[1:4, 2:6])
        # A tile of the same shape computed meanwhile on this thread (a window whose read
        # computes other tiles) gets its own buffer: these coordinates stay.
        with kernel_pixmap(whole[2:5, 5:9]) as nested:
            assert not np.shares_memory(first, nested)
            np.testing.assert_array_equal(nested, whole[2:5, 5:9])
        np.testing.assert_array_equal(first, whole[1:4, 2:6])
    with kernel_pixmap(whole[2:5, 5:9]) as again:  # the next tile of that shape: same memory
        assert np.shares_memory(first, again)
        np.testing.assert_array_equal(again, whole[2:5, 5:9])
    with kernel_pixmap(whole[0:2, 0:3]) as other:  # another shape: its own buffer
        np.testing.assert_array_equal(other, whole[0:2, 0:3])


@pytest.mark.parametrize("dtype", ["<f8", "<f4"])
def test_a_pixmap_tile_of_a_pixmap_in_memory_is_read_where_it_lies(dtype):
    whole = np.arange(6 * 10 * 2, dtype=dtype).reshape(6, 10, 2)
    for tile in (whole, whole[1:4, 2:6], whole[:, 3:]):
        with kernel_pixmap(tile) as pixmap:
            assert pixmap is tile


class _ComputedOnRead:
    """A 2-D array-like whose slices compute a dask graph, as a dask-backed xarray's do."""

    def __init__(self, lazy):
        self.lazy, self.shape, self.dtype = lazy, lazy.shape, lazy.dtype

    def __getitem__(self, key):
        return self.lazy[key].compute()


@pytest.mark.parametrize("interp", ["linear", "lan3"])
def test_a_window_whose_read_blots_other_tiles_on_the_same_thread(interp):
    """The data is itself a lazy blot, computed tile by tile as the outer tiles read their
    windows, on the same thread (dask's synchronous scheduler), and both pixmaps are copied
    (big-endian, as read from FITS): the inner tiles overwrote the outer tile's coordinates,
    and every pixel came out wrong (values up to 1e37, read outside the window)."""
    import dask

    from tileblot import blot

    rng = np.random.default_rng(0)
    mosaic = rng.normal(size=(64, 64)).astype(np.float32)
    j, i = np.mgrid[0:48, 0:48].astype(np.float64)
    inner_pixmap = np.dstack([i * 1.1 + 3.3, j * 1.2 + 2.1]).astype(">f8")
    outer_pixmap = np.dstack([i * 0.9 + 1.7, j * 0.8 + 4.4]).astype(">f8")
    inner = blot(mosaic, inner_pixmap, interp=interp, chunks=16)
    with dask.config.set(scheduler="synchronous"):
        got = blot(_ComputedOnRead(inner), outer_pixmap, interp=interp, chunks=16).compute()
        expected = blot_image(inner.compute(), outer_pixmap, interp=interp, precision="high")
    np.testing.assert_array_equal(got, expected)
