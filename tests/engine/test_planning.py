"""Planning: windows, bounding boxes, tile grids (pure numpy, checked with hypothesis)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tileblot import INTERPOLATORS, PRECISIONS
from tileblot._engine._plan import Tiling
from tileblot._engine._planning import (
    DEFAULT_TILE,
    Window,
    coordinate_bbox,
    normalize_tile_chunks,
    row_bands,
    window_for,
)
from tileblot._engine._tile import blot_tile
from tileblot._engine._validation import make_params
from tileblot._kernels._registry import resolve

from ..strategies import edge_values, grid_floats

shapes = st.tuples(st.integers(1, 60), st.integers(1, 60))


@st.composite
def bbox_in(draw, shape):
    iy = sorted(draw(st.lists(st.integers(0, shape[0] - 1), min_size=2, max_size=2)))
    ix = sorted(draw(st.lists(st.integers(0, shape[1] - 1), min_size=2, max_size=2)))
    return iy[0], iy[1], ix[0], ix[1]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=shapes, halo=st.integers(0, 10))
def test_window_is_the_padded_bbox_clipped_to_the_array(data, shape, halo):
    bbox = data.draw(bbox_in(shape))
    window = window_for(bbox, halo, shape)
    assert 0 <= window.y0 < window.y1 <= shape[0]
    assert 0 <= window.x0 < window.x1 <= shape[1]
    assert window.y0 == max(bbox[0] - halo, 0) and window.y1 == min(bbox[1] + halo + 1, shape[0])
    assert window.x0 == max(bbox[2] - halo, 0) and window.x1 == min(bbox[3] + halo + 1, shape[1])
    assert window.shape == (window.y1 - window.y0, window.x1 - window.x0)
    assert np.ones(shape)[window.slices].shape == window.shape


def coordinates(shape):
    height, width = shape
    return st.tuples(
        st.one_of(grid_floats(-3, width + 3), st.sampled_from([*edge_values(width), np.nan])),
        st.one_of(grid_floats(-3, height + 3), st.sampled_from([*edge_values(height), np.nan])),
    )


@pytest.mark.parametrize("precision", PRECISIONS)
@settings(max_examples=100, deadline=None)
@given(data=st.data(), shape=shapes)
def test_coordinate_bbox_is_the_floor_of_the_on_image_extremes(precision, data, shape):
    points = data.draw(st.lists(coordinates(shape), min_size=1, max_size=12))
    pixmap = np.array([points], dtype=np.float64)
    rounded = pixmap.astype(np.float32).astype(np.float64) if precision == "drizzle" else pixmap
    x, y = rounded[..., 0], rounded[..., 1]
    with np.errstate(invalid="ignore"):
        on = (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])
    bbox = coordinate_bbox(pixmap, shape, precision)
    if not on.any():
        assert bbox is None
        return
    assert bbox == (
        int(np.floor(y[on].min())), int(np.floor(y[on].max())),
        int(np.floor(x[on].min())), int(np.floor(x[on].max())),
    )


def reference_bbox(pixmap, shape, precision):
    """coordinate_bbox in numpy: the floors of the on-image extremes, or None."""
    rounded = pixmap.astype(np.float32) if precision == "drizzle" else pixmap
    x, y = rounded[..., 0].astype(np.float64), rounded[..., 1].astype(np.float64)
    with np.errstate(invalid="ignore"):
        on = (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])
    if not on.any():
        return None
    return (int(np.floor(y[on].min())), int(np.floor(y[on].max())),
            int(np.floor(x[on].min())), int(np.floor(x[on].max())))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("precision", PRECISIONS)
@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), size=st.tuples(st.integers(1, 9),
       st.integers(1, 300)), specials=st.floats(0, 1), cut=st.tuples(*[st.integers(0, 4)] * 4))
def test_coordinate_bbox_of_long_rows_read_in_place(precision, dtype, shape, seed, size,
                                                     specials, cut):
    """Rows long enough for the scan's vectorised loop (the short rows above only reach its
    remainder), read in place inside a larger pixmap, with edge values, NaN and infinities
    scattered among them."""
    rng = np.random.default_rng(seed)
    ny, nx = size[0] + cut[0] + cut[1], size[1] + cut[2] + cut[3]
    pixmap = np.stack([rng.uniform(-3, shape[1] + 3, (ny, nx)),
                       rng.uniform(-3, shape[0] + 3, (ny, nx))], axis=-1)
    odd = rng.random(pixmap.shape) < specials
    pool = np.array([*edge_values(shape[0]), *edge_values(shape[1]), np.nan, np.inf, -np.inf])
    pixmap[odd] = rng.choice(pool, size=int(odd.sum()))
    pixmap = pixmap.astype(dtype)
    tile = pixmap[cut[0] : ny - cut[1], cut[2] : nx - cut[3]]  # a view, as dask blocks are
    assert coordinate_bbox(tile, shape, precision) == reference_bbox(tile, shape, precision)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_kernel_read_is_inside_its_planned_window(interp, precision, data):
    """blot_tile's read_window returns exactly the planned window inside a NaN sea, at the
    right origin: any read outside the window would turn the output into NaN."""
    min_size = resolve(interp).min_size
    shape = (data.draw(st.integers(min_size, 25)), data.draw(st.integers(min_size, 25)))
    points = data.draw(st.lists(coordinates(shape), min_size=1, max_size=8))
    pixmap = np.array([points], dtype=np.float64)
    pad = 12
    seen = []

    def read_window(window):
        seen.append(window)
        sea = np.full((window.shape[0] + 2 * pad, window.shape[1] + 2 * pad), np.nan)
        sea[pad:-pad, pad:-pad] = np.random.default_rng(len(points)).normal(size=window.shape)
        return sea, window.y0 - pad, window.x0 - pad

    params = make_params(interp=interp, fillval=0.0, iscale=1.0, sinscl=1.3, precision=precision)
    out = blot_tile(read_window, pixmap, shape, params)
    assert not np.isnan(out).any()
    assert len(seen) <= 1
    for window in seen:
        assert 0 <= window.y0 < window.y1 <= shape[0]
        assert 0 <= window.x0 < window.x1 <= shape[1]


chunk_specs = st.one_of(
    st.none(),
    st.integers(1, 70),
    st.tuples(st.integers(1, 70), st.integers(1, 70)),
)


@settings(max_examples=200, deadline=None)
@given(shape=shapes, chunks=chunk_specs)
def test_tiles_partition_the_output_exactly(shape, chunks):
    blocks = normalize_tile_chunks(chunks, shape)
    assert [sum(b) for b in blocks] == list(shape)
    assert all(b > 0 for axis in blocks for b in axis)
    rows, cols = Tiling(blocks).slices()
    count = np.zeros(shape, dtype=int)
    for r in rows:
        for c in cols:
            count[r, c] += 1
    np.testing.assert_array_equal(count, 1)
    if isinstance(chunks, int):
        assert all(b == min(chunks, n) for axis, n in zip(blocks, shape, strict=True)
                   for b in axis[:-1])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), shape=shapes)
def test_explicit_block_lengths_are_kept(data, shape):
    def partition(n):
        cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=5))) if n > 1 else []
        edges = [0, *cuts, n]
        return tuple(b - a for a, b in itertools.pairwise(edges))

    chunks = (partition(shape[0]), partition(shape[1]))
    assert normalize_tile_chunks(chunks, shape) == chunks
    assert normalize_tile_chunks([list(chunks[0]), list(chunks[1])], shape) == chunks


def test_default_chunks():
    assert normalize_tile_chunks(None, (3000, 10)) == (
        (DEFAULT_TILE, DEFAULT_TILE, 3000 - 2 * DEFAULT_TILE), (10,)
    )


@pytest.mark.parametrize(
    "chunks",
    [0, -3, True, 2.5, "auto", (4,), (4, 4, 4), (0, 4), (4, -1), (True, 4), (4.0, 4),
     ((5, 4), (10,)), ((10,), (4, 4)), ((10, 0), (10,)), ((12, -2), (10,))],
)
def test_bad_chunks_raise(chunks):
    with pytest.raises(ValueError, match="chunk"):
        normalize_tile_chunks(chunks, (10, 10))


@pytest.mark.parametrize(("chunks", "words"), [
    (((5, 5.0), (10,)), r"axis 0: every block must be a positive integer, got 5.0"),
    (((10, 0), (10,)), r"axis 0: every block must be a positive integer, got 0"),
    (((10,), (4, 4)), r"\(4, 4\) for axis 1 do not partition length 10 \(they sum to 8\)"),
])
def test_bad_blocks_are_named_for_what_is_wrong(chunks, words):
    # A float block was reported as blocks that "do not partition" a length they sum to.
    with pytest.raises(ValueError, match=words):
        normalize_tile_chunks(chunks, (10, 10))


@settings(max_examples=100, deadline=None)
@given(nrows=st.integers(1, 500), nbands=st.integers(-2, 80))
def test_row_bands_partition_the_rows(nrows, nbands):
    bands = row_bands(nrows, nbands)
    assert 1 <= len(bands) <= max(1, nbands)
    assert bands[0].start == 0 and bands[-1].stop == nrows
    for a, b in itertools.pairwise(bands):
        assert a.stop == b.start
    sizes = [b.stop - b.start for b in bands]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_window_slices():
    w = Window(2, 5, 1, 7)
    assert w.slices == (slice(2, 5), slice(1, 7))
    assert w.shape == (3, 6)
