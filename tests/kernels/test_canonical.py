"""The canonical dtypes and layouts every entry point is compiled for (``_canonical``)."""

import mmap

import numpy as np
import pytest

from tileblot._engine._planning import prepare_window, window_dtype
from tileblot._kernels._canonical import (
    canonical_pixmap,
    canonical_pixmap_rect,
    map_pages,
    pixmap_dtype,
    pixmap_in_place,
)
from tileblot._kernels._registry import resolve


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("<f4", np.float32), (">f4", np.float32), ("<f2", np.float32), ("<f8", np.float64),
     (">f8", np.float64), ("<i4", np.float64), ("<i2", np.float64)],
)
def test_pixmaps_become_native_contiguous_read_only_floats(dtype, expected):
    pixmap = np.arange(24, dtype=dtype).reshape(3, 4, 2)[:, ::2]
    prepared = canonical_pixmap(pixmap)
    assert pixmap_dtype(pixmap.dtype) == expected
    assert prepared.dtype == expected and prepared.dtype.isnative
    assert prepared.flags.c_contiguous and not prepared.flags.writeable
    np.testing.assert_array_equal(prepared, pixmap.astype(np.float64))


def test_a_ready_pixmap_is_not_copied():
    pixmap = np.zeros((3, 4, 2), np.float64)
    prepared = canonical_pixmap(pixmap)
    assert np.shares_memory(prepared, pixmap)
    assert pixmap.flags.writeable  # the caller's array keeps its flag


@pytest.mark.parametrize(
    ("dtype", "precision", "expected"),
    [("<f4", "drizzle", np.float32), ("<f8", "drizzle", np.float32),
     (">i2", "drizzle", np.float32), ("<f4", "high", np.float32), (">f4", "high", np.float32),
     ("<f2", "high", np.float32),
     ("<f8", "high", np.float64), (">f8", "high", np.float64), ("<i4", "high", np.float64)],
)
def test_windows_are_read_in_the_kernels_dtype(dtype, precision, expected):
    window = np.arange(30, dtype=dtype).reshape(5, 6)[:, ::2]
    assert window_dtype(window.dtype, precision) == expected
    prepared = prepare_window(window, precision)
    assert prepared.dtype == expected and prepared.dtype.isnative
    assert prepared.flags.c_contiguous
    np.testing.assert_array_equal(prepared, window)


def _rectangle(found, shape):
    parent, j0, i0 = found
    return parent[j0 : j0 + shape[0], i0 : i0 + shape[1]]


@pytest.mark.parametrize("dtype", ["<f4", "<f8"])
@pytest.mark.parametrize(
    "key",
    [np.s_[:, :], np.s_[1:4, 2:6], np.s_[3:, :5], np.s_[5:6, 9:10], np.s_[1:2, :]],
)
def test_a_rectangle_of_a_pixmap_in_memory_is_read_in_its_parent(dtype, key):
    whole = np.arange(6 * 10 * 2, dtype=dtype).reshape(6, 10, 2)
    tile = whole[key]
    found = pixmap_in_place(tile)
    assert found is not None
    parent = found[0]
    assert not parent.flags.writeable and parent.flags.c_contiguous
    assert np.shares_memory(parent, whole) and whole.flags.writeable
    np.testing.assert_array_equal(_rectangle(found, tile.shape), tile)
    # A band of rows of the tile (as the memory budget cuts it) too.
    band = tile[1:]
    np.testing.assert_array_equal(_rectangle(pixmap_in_place(band), band.shape), band)


@pytest.mark.parametrize(
    "make",
    [
        lambda w: w[:, ::2],  # strided columns
        lambda w: w[::-1],  # reversed rows
        lambda w: w.astype(">f8")[1:3, 1:3],  # another byte order
        lambda w: w.astype(np.float16)[1:3, 1:3],  # another dtype
        lambda w: np.asfortranarray(w)[1:3, 1:3],
        lambda w: w[:, :, ::-1][1:3, 1:3],  # (y, x): swapped in memory
        # A view made by hand, half a pixel into its parent: not whole rows and columns.
        lambda w: np.ndarray((2, 3, 2), w.dtype, buffer=w, offset=8, strides=w.strides),
    ],
)
def test_what_cannot_be_read_in_place_is_copied(make):
    whole = np.arange(6 * 10 * 2, dtype=np.float64).reshape(6, 10, 2)
    tile = make(whole)
    assert pixmap_in_place(tile) is None
    parent, j0, i0 = canonical_pixmap_rect(tile)
    assert (j0, i0) == (0, 0) and parent.flags.c_contiguous and parent.dtype.isnative
    np.testing.assert_array_equal(parent, tile)


@pytest.mark.parametrize("start", [0, 1, 700, 1023])
@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (3, 5), (7, 1500), (1500, 7), (64, 1024)])
def test_map_pages_writes_to_every_page_of_the_output(shape, start):
    # A view that starts `start` items into its buffer starts anywhere in a page.
    size = int(np.prod(shape))
    buffer = np.full(start + size, np.nan, dtype=np.float32)
    out = buffer[start:].reshape(shape)
    map_pages(out)
    base = out.__array_interface__["data"][0]
    touched = np.flatnonzero(out.reshape(-1) == 0)
    pages = set(range(base // mmap.PAGESIZE, (base + out.nbytes - 1) // mmap.PAGESIZE + 1))
    assert {(base + 4 * k) // mmap.PAGESIZE for k in touched} == (pages if size else set())
    # Every page once or twice: a pass of 1/1024th of the output, not a fill.
    assert len(touched) <= len(pages) + 1
    assert np.isnan(buffer[:start]).all()


def test_an_argument_refused_leaves_the_output_untouched():
    out = np.full((64, 1500), np.nan, dtype=np.float32)
    pixmap = np.zeros((64, 1500, 2))
    with pytest.raises(ValueError, match="state must be 1-D"):
        resolve("nearest").kernel(np.zeros((4, 4), np.float32), 0, 0, 4, 4, pixmap, out, 0.0,
                                  1.0, np.zeros((2, 2)), False)
    assert np.isnan(out).all()
