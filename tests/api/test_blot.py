"""The lazy engine, ``tileblot.blot``: equal to ``blot_image`` bit for bit, lazily, by windows."""

import shutil

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tileblot
from tests.helpers import RecordingSource, affine_pixmap

ALL = tileblot.INTERPOLATORS


@pytest.fixture
def scene(rng):
    data = rng.normal(size=(90, 110)).astype(np.float32)
    # Rotated and scaled, partly off the image, with a NaN hole.
    pixmap = affine_pixmap((70, 80), scale=1.3, angle=0.3, shift=(20.0, -15.0))
    pixmap[5:9, 30:34] = np.nan
    return data, pixmap


def _sources(data, tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, data)
    zpath = tmp_path / "data.zarr"
    zarr.create_array(zpath, data=data, chunks=(32, 40))
    return {
        "numpy": data,
        "float64-big-endian": data.astype(">f8"),
        "zarr": zarr.open_array(zpath, mode="r"),
        "zarr-path": str(zpath),
        "npy-path": str(path),
        "memmap": np.load(path, mmap_mode="r"),
        "dask": da.from_array(data, chunks=(25, 45)),
        "dask-computed": da.from_array(data, chunks=(50, 50)) * 1,
        "sliceable": RecordingSource(data),
    }


@pytest.mark.parametrize("interp", ALL)
@pytest.mark.parametrize("precision", ["high", "drizzle"])
def test_blot_equals_blot_image_for_every_source(scene, tmp_path, interp, precision):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp=interp, precision=precision, fillval=-1)
    for kind, source in _sources(data, tmp_path).items():
        lazy = tileblot.blot(source, pixmap, interp=interp, precision=precision, fillval=-1,
                             chunks=(23, 31))
        got = lazy.compute()
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected, err_msg=kind)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    interp=st.sampled_from(ALL),
    cy=st.integers(3, 80),
    cx=st.integers(3, 90),
    dask_data=st.booleans(),
)
def test_any_chunking_is_bit_identical(scene, interp, cy, cx, dask_data):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp=interp, precision="high")
    source = da.from_array(data, chunks=(cx, cy)) if dask_data else data
    got = tileblot.blot(source, pixmap, interp=interp, chunks=(cy, cx)).compute()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dask_data", [False, True])
@pytest.mark.parametrize("interp", ALL)
def test_one_pixel_tiles_are_bit_identical(scene, interp, dask_data):
    # The smallest tiles and data blocks, on a cutout (thousands of 1-pixel tasks over the
    # whole scene would only make the test slow).
    data, pixmap = scene
    cutout = pixmap[20:26, 30:37]
    expected = tileblot.blot_image(data, cutout, interp=interp, precision="high")
    source = da.from_array(data, chunks=(2, 3)) if dask_data else data
    got = tileblot.blot(source, cutout, interp=interp, chunks=1).compute()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("interp", ["linear", "poly5", "lan3"])
def test_cutout_of_blot_is_blot_of_cutout(scene, interp):
    # drizzlepac issue 166: blotting a cutout must not differ from cutting out the blot.
    data, pixmap = scene
    full = tileblot.blot(data, pixmap, interp=interp, chunks=16).compute()
    cut = tileblot.blot(data, pixmap[11:47, 5:66], interp=interp, chunks=(7, 9)).compute()
    np.testing.assert_array_equal(cut, full[11:47, 5:66])


def test_pixmap_kinds(scene, tmp_path):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, precision="high")
    zpath = tmp_path / "pixmap.zarr"
    zarr.create_array(zpath, data=pixmap, chunks=(30, 20, 2))
    npy = tmp_path / "pixmap.npy"
    np.save(npy, pixmap)
    class Bare:  # shape, dtype and slicing only (no ndim, no __array__)
        shape, dtype = pixmap.shape, pixmap.dtype

        def __getitem__(self, key):
            return pixmap[key]

    for pm in (pixmap, zarr.open_array(zpath), str(zpath), str(npy),
               da.from_array(pixmap, chunks=(17, 19, 2)), pixmap.astype(">f8"), Bare()):
        np.testing.assert_array_equal(tileblot.blot(data, pm).compute(), expected)




def test_fills_of_nan_and_negative_nan_computed_together_keep_their_bits(scene):
    data, pixmap = scene
    nan = np.float32(np.nan)
    blots = dask.compute(*(tileblot.blot(data, pixmap, fillval=fill, chunks=32)
                           for fill in (nan, -nan)))
    for got, fill in zip(blots, (nan, -nan), strict=True):
        expected = tileblot.blot_image(data, pixmap, fillval=fill, precision="high")
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))

class _Sliceable:
    """An array-like that says nowhere where it lives (as a FITS ``section`` does)."""

    def __init__(self, array):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype

    def __getitem__(self, key):
        return self.array[key]


def test_array_likes_of_one_shape_computed_together_keep_their_own_values(scene, tmp_path):
    # Their identities (type, shape, dtype) are equal: their tasks' keys must not be.
    data, pixmap = scene
    other_data, other_pixmap = -2 * data, pixmap[::-1].copy()
    pairs = {"data": ((_Sliceable(data), pixmap), (_Sliceable(other_data), pixmap)),
             "pixmap": ((data, _Sliceable(pixmap)), (data, _Sliceable(other_pixmap)))}
    for what, ((d1, p1), (d2, p2)) in pairs.items():
        first, second = dask.compute(tileblot.blot(d1, p1, chunks=32),
                                     tileblot.blot(d2, p2, chunks=32))
        expected = [tileblot.blot_image(np.asarray(d[...]), np.asarray(p[...]),
                                        precision="high") for d, p in ((d1, p1), (d2, p2))]
        np.testing.assert_array_equal(first, expected[0], err_msg=what)
        np.testing.assert_array_equal(second, expected[1], err_msg=what)
    # The same in one job of several exposures.
    pixmaps = [_Sliceable(pixmap), _Sliceable(other_pixmap)]
    stores = [tmp_path / "one.zarr", tmp_path / "two.zarr"]
    for image, pm in zip(tileblot.blot_to_zarr(data, pixmaps, stores, chunks=32, progress=False),
                         (pixmap, other_pixmap), strict=True):
        np.testing.assert_array_equal(image[...],
                                      tileblot.blot_image(data, pm, precision="high"))

def test_a_zarr_mosaic_gone_before_its_tiles_run_is_an_error_not_zeros(scene, tmp_path):
    """zarr reads a missing chunk as the fill value: without the check each tile would be
    blotted from zeros. (A pixmap is read while planning, so this process has seen it: the
    same check in worker processes that never saw it is in tests/api/test_cluster.py.)"""
    data, pixmap = scene
    path = tmp_path / "data.zarr"
    zarr.create_array(path, data=data, chunks=(32, 40))
    lazy = tileblot.blot(str(path), pixmap, chunks=(35, 40))
    shutil.rmtree(path)
    with pytest.raises(ValueError, match=r"input zarr array file://.*data.zarr is not there "
                                         r"for this process.*every worker must see the inputs"):
        lazy.compute()


def test_default_chunks_follow_the_pixmap(scene, tmp_path):
    data, pixmap = scene
    zpath = tmp_path / "pixmap.zarr"
    zarr.create_array(zpath, data=pixmap, chunks=(30, 20, 2))
    assert tileblot.blot(data, str(zpath)).chunks == ((30, 30, 10), (20, 20, 20, 20))
    assert tileblot.blot(data, da.from_array(pixmap, chunks=(35, 40, 2))).chunksize == (35, 40)
    big = np.zeros((1500, 2100, 2))
    assert tileblot.blot(data, big).chunksize == (1024, 1024)


def test_a_dask_pixmap_with_empty_blocks_gets_no_empty_tiles(scene):
    # Rows selected with a boolean mask, their sizes computed as tileblot's own refusal of
    # unknown sizes asks: blocks of (30, 0, 30) rows were refused as a bad chunks argument.
    data, pixmap = scene
    keep = np.r_[0:30, 60:70]
    mask = np.isin(np.arange(pixmap.shape[0]), keep)
    lazy_pixmap = da.from_array(pixmap, chunks=(30, 40, 2))[da.from_array(mask, chunks=30)]
    lazy_pixmap = lazy_pixmap.compute_chunk_sizes()
    assert 0 in lazy_pixmap.chunks[0]
    lazy = tileblot.blot(data, lazy_pixmap, interp="linear", precision="drizzle")
    assert lazy.chunks == ((30, 10), (40, 40))
    np.testing.assert_array_equal(lazy.compute(), tileblot.blot_image(data, pixmap[keep],
                                                                      interp="linear"))


def test_tiles_read_only_their_windows(scene):
    data, pixmap = scene
    interp = tileblot._kernels._registry.resolve("poly5")
    source = RecordingSource(data)
    with dask.config.set(scheduler="sync"):
        tileblot.blot(source, pixmap, interp="poly5", chunks=10).compute()
    # A tile whose coordinates all miss the image reads nothing; others read one window each.
    tiles = [
        (slice(j, j + 10), slice(i, i + 10)) for j in range(0, 70, 10) for i in range(0, 80, 10)
    ]
    expected_reads = []
    for rows, cols in tiles:
        block = pixmap[rows, cols]
        x, y = block[..., 0], block[..., 1]
        with np.errstate(invalid="ignore"):
            on = (x >= 0) & (x < 110) & (y >= 0) & (y < 90)
        if on.any():
            h = interp.halo
            expected_reads.append((
                max(int(y[on].min()) - h, 0), min(int(y[on].max()) + h + 1, 90),
                max(int(x[on].min()) - h, 0), min(int(x[on].max()) + h + 1, 110),
            ))
    assert sorted(source.reads) == sorted(expected_reads)
    assert len(source.reads) < len(tiles)
    assert all((y1 - y0) * (x1 - x0) < data.size for y0, y1, x0, x1 in source.reads)


def test_numpy_data_is_in_the_graph_once(scene):
    data, pixmap = scene
    lazy = tileblot.blot(data, pixmap, chunks=10)
    graph = dict(lazy.__dask_graph__())
    holders = [key for key, node in graph.items() if getattr(node, "value", None) is data]
    assert len(holders) == 1
    # Every tile task depends on that key; none embeds the array itself.
    tasks = [graph[k] for row in lazy.__dask_keys__() for k in row]
    assert len(tasks) == lazy.npartitions
    for task in tasks:
        assert holders[0] in task.dependencies
        assert not any(getattr(arg, "value", None) is data for arg in task.args)


def test_graph_is_one_task_per_tile(scene):
    data, pixmap = scene
    lazy = tileblot.blot(data, pixmap, chunks=(7, 9))
    graph = lazy.__dask_graph__()
    assert len(graph.layers[lazy.name]) == lazy.npartitions
    sources = [name for name in graph.layers if name.startswith("blot-source-")]
    assert len(sources) == 1 and len(graph.layers[sources[0]]) == 1
    # Deterministic names: the same inputs give the same graph.
    assert tileblot.blot(data, pixmap, chunks=(7, 9)).name == lazy.name
    assert tileblot.blot(data, pixmap, chunks=(7, 9), interp="linear").name != lazy.name


def test_large_tile_count_graph_is_linear():
    # About 10^5 tiles: one layer of one task per tile, built without computing anything.
    data = np.zeros((50, 50), np.float32)
    pixmap = da.zeros((3160, 3160, 2), chunks=(10, 10, 2))
    lazy = tileblot.blot(data, pixmap, interp="nearest")
    assert lazy.numblocks == (316, 316)
    assert len(lazy.__dask_graph__().layers[lazy.name]) == 316 * 316


def test_dask_data_only_reads_needed_blocks(scene):
    data, pixmap = scene
    source = da.from_array(data, chunks=(10, 10))
    small = pixmap[30:40, 10:20]
    lazy = tileblot.blot(source, small, chunks=10, interp="linear")
    graph = lazy.__dask_graph__()
    deps = graph.dependencies[lazy.name]
    block_keys = {
        key for key in graph.layers[lazy.name] for key in graph.layers[lazy.name][key].dependencies
        if isinstance(key, tuple) and key[0] == source.name
    }
    assert source.name in deps
    assert 0 < len(block_keys) < source.npartitions
    np.testing.assert_array_equal(
        lazy.compute(), tileblot.blot_image(data, small, interp="linear", precision="high")
    )


def test_tiles_off_the_image_need_no_data(rng):
    data = rng.normal(size=(20, 20)).astype(np.float32)
    pixmap = affine_pixmap((30, 30), shift=(100.0, 100.0))
    source = RecordingSource(data)
    out = tileblot.blot(source, pixmap, fillval=np.nan, chunks=7).compute(scheduler="sync")
    assert np.isnan(out).all()
    assert source.reads == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"interp": "cubic"}, ValueError, "unknown interp"),
        ({"precision": "double"}, ValueError, "precision"),
        ({"iscale": np.inf}, ValueError, "iscale"),
        ({"fillval": "zero"}, TypeError, "fillval"),
        ({"chunks": 0}, ValueError, "chunk"),
        ({"chunks": (10, 10, 10)}, ValueError, "chunks"),
        ({"sinscl": -1}, ValueError, "sinscl"),
    ],
)
def test_bad_arguments(scene, kwargs, error, match):
    data, pixmap = scene
    with pytest.raises(error, match=match):
        tileblot.blot(data, pixmap, **kwargs)


def test_bad_inputs(scene, tmp_path):
    data, pixmap = scene
    with pytest.raises(ValueError, match="2-D"):
        tileblot.blot(data[0], pixmap)
    with pytest.raises(ValueError, match=r"\(ny, nx, 2\)"):
        tileblot.blot(data, pixmap[..., 0])
    with pytest.raises(TypeError, match="complex"):
        tileblot.blot(data.astype(complex), pixmap)
    with pytest.raises(TypeError, match="data must be"):
        tileblot.blot(object(), pixmap)
    with pytest.raises(ValueError, match="no such file"):
        tileblot.blot(str(tmp_path / "missing.zarr"), pixmap)
    with pytest.raises(ValueError, match="no such FITS"):
        tileblot.blot(str(tmp_path / "missing.fits[1]"), pixmap)
    with pytest.raises(ValueError, match="empty"):
        tileblot.blot(np.zeros((0, 5)), pixmap)
    with pytest.raises(ValueError, match="at least 4"):
        tileblot.blot(np.zeros((3, 5)), pixmap, interp="poly5")

