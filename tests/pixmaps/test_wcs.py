"""Pixmaps from WCS pairs (against drizzle's ``calc_pixmap``) and the affine helper."""

import copy
import math
from pathlib import Path
from typing import ClassVar

import dask.array as da
import numpy as np
import pytest
from astropy.wcs import WCS, Sip
from drizzle.utils import calc_pixmap
from hypothesis import given
from hypothesis import strategies as st

from tileblot import affine_pixmap, blot_image, pixmap_from_wcs
from tileblot._pixmaps._wcs import _nodes

from ..oracle import assert_matches_drizzle

RA, DEC = 150.1, 2.2

# Largest |stepsize - exact| for SIP_ACS_LIKE with stepsize 16 (measured: 1.26e-3 px on a
# 2k x 2k exposure, see docs/pixmaps.rst; the quadratic terms dominate, so it is the same on
# a smaller grid).
STEP16_ERROR = 1.5e-3


def _sip_coefficients():
    """SIP A/B polynomials of ACS/WFC-like size (about 35 px at the corners of 2k x 2k)."""
    a = np.zeros((5, 5))
    b = np.zeros((5, 5))
    a[2, 0], a[1, 1], a[0, 2] = 8.6e-6, -5.2e-6, 2.2e-6
    a[3, 0], a[1, 2], a[2, 2] = -4e-11, 3e-11, 1e-15
    b[2, 0], b[1, 1], b[0, 2] = -3.1e-6, 7.6e-6, -1.5e-6
    b[0, 3], b[2, 1], b[4, 0] = 5e-11, -2e-11, 2e-15
    return a, b


def make_wcs(shape, *, scale=0.05, rotation=0.0, crval=(RA, DEC), crpix=None, sip=False):
    """A TAN (optionally TAN-SIP) astropy WCS built without FITS headers (so no warnings).

    ``scale`` in arcsec per pixel, ``rotation`` in degrees, ``crpix`` 1-based (x, y).
    """
    ny, nx = shape
    wcs = WCS(naxis=2)
    suffix = "-SIP" if sip else ""
    wcs.wcs.ctype = [f"RA---TAN{suffix}", f"DEC--TAN{suffix}"]
    wcs.wcs.crval = crval
    wcs.wcs.crpix = crpix if crpix is not None else [(nx + 1) / 2, (ny + 1) / 2]
    theta = math.radians(rotation)
    cd = np.array([[-math.cos(theta), math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    wcs.wcs.cd = cd * scale / 3600.0
    if sip:
        a, b = _sip_coefficients()
        wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    wcs.pixel_shape = (nx, ny)
    wcs.wcs.set()
    return wcs


def exposure_and_mosaic(shape=(96, 128)):
    """A distorted, rotated exposure inside an undistorted mosaic (finer pixels)."""
    exposure = make_wcs(shape, rotation=25.0, sip=True, crpix=[40.0, 30.0])
    mosaic = make_wcs((400, 400), scale=0.03, rotation=0.0)
    return exposure, mosaic


class SkyPlane:
    """Duck-typed WCS (the shared Python API only): an affine map pixel <-> world.

    With ``bounding_box = ((x0, x1), (y0, y1))`` set, pixel_to_world_values is NaN
    outside it and world_to_pixel_values NaN for results outside it, as in gwcs.
    ``undefined`` (world x above it) makes world_to_pixel_values raise ValueError.
    """

    calls: ClassVar[list] = []  # shared, not copied, so a test can count calls made on copies

    def __init__(self, matrix, offset, array_shape=None, bounding_box=None, undefined=None):
        self.matrix = np.asarray(matrix, dtype=float)
        self.offset = np.asarray(offset, dtype=float)
        self.array_shape = array_shape
        self.bounding_box = bounding_box
        self.undefined = undefined
        self.pixel_n_dim = self.world_n_dim = 2

    def _outside(self, x, y):
        if self.bounding_box is None:
            return np.zeros(np.shape(x), dtype=bool)
        (x0, x1), (y0, y1) = self.bounding_box
        return (x < x0) | (x > x1) | (y < y0) | (y > y1)

    def pixel_to_world_values(self, x, y):
        SkyPlane.calls.append("pixel_to_world_values")
        (a, b), (c, d) = self.matrix
        u = a * np.asarray(x) + b * np.asarray(y) + self.offset[0]
        v = c * np.asarray(x) + d * np.asarray(y) + self.offset[1]
        outside = self._outside(x, y)
        return np.where(outside, np.nan, u), np.where(outside, np.nan, v)

    def world_to_pixel_values(self, u, v):
        SkyPlane.calls.append("world_to_pixel_values")
        u, v = np.asarray(u), np.asarray(v)
        if self.undefined is not None and np.any(u > self.undefined):
            raise ValueError("no pixel there")
        inverse = np.linalg.inv(self.matrix)
        x = inverse[0, 0] * (u - self.offset[0]) + inverse[0, 1] * (v - self.offset[1])
        y = inverse[1, 0] * (u - self.offset[0]) + inverse[1, 1] * (v - self.offset[1])
        outside = self._outside(x, y)
        return np.where(outside, np.nan, x), np.where(outside, np.nan, y)


def sky_planes(**exposure_kwargs):
    exposure = SkyPlane([[0.9, -0.3], [0.3, 0.9]], [5.0, -3.0], **exposure_kwargs)
    mosaic = SkyPlane([[0.5, 0.0], [0.0, 0.5]], [0.0, 0.0], bounding_box=((0, 40), (0, 40)))
    return exposure, mosaic


def assert_same(actual, expected):
    """Bit-for-bit equal, NaN where expected has NaN."""
    np.testing.assert_array_equal(np.asarray(actual), expected, strict=True)


def assert_like_calc_pixmap(actual, expected, output_wcs, chunks):
    """Bit for bit, unless astropy inverts SIP iteratively on tiles smaller than the grid.

    ``all_world2pix`` iterates until the worst point of its batch converges, so its values
    depend on the batch, within its tolerance (1e-4 px; about 1e-7 px here).
    """
    if getattr(output_wcs, "sip", None) is None or chunks is None:
        assert_same(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- equality


@pytest.mark.parametrize("chunks", [None, 32, (17, 50)])
@pytest.mark.parametrize("distorted", ["input", "output", "both"])
def test_equals_calc_pixmap_for_astropy_wcs_with_sip(distorted, chunks):
    exposure = make_wcs((96, 128), rotation=25.0, sip=distorted in ("input", "both"))
    mosaic = make_wcs((300, 300), scale=0.04, rotation=-10.0, sip=distorted in ("output", "both"))
    pixmap = pixmap_from_wcs(exposure, mosaic, chunks=chunks)
    assert isinstance(pixmap, da.Array)
    assert pixmap.shape == (96, 128, 2) and pixmap.dtype == np.float64
    assert_like_calc_pixmap(pixmap.compute(), calc_pixmap(exposure, mosaic), mosaic, chunks)


def test_explicit_shape_overrides_array_shape():
    exposure, mosaic = exposure_and_mosaic()
    pixmap = pixmap_from_wcs(exposure, mosaic, (50, 70), chunks=16)
    assert_same(pixmap.compute(), calc_pixmap(exposure, mosaic, (50, 70)))


def test_float32_is_calc_pixmap_rounded():
    exposure, mosaic = exposure_and_mosaic()
    pixmap = pixmap_from_wcs(exposure, mosaic, dtype=np.float32, chunks=40)
    assert pixmap.dtype == np.float32
    assert_same(pixmap.compute(), calc_pixmap(exposure, mosaic).astype(np.float32))


def test_shared_wcs_api_duck_type_with_bounding_boxes_equals_calc_pixmap():
    # The exposure's bounding box stays on (NaN outside it), the mosaic's is disabled (pixels off
    # it still get coordinates): calc_pixmap's default, disable_bbox="to".
    exposure, mosaic = sky_planes(array_shape=(30, 45), bounding_box=((2, 40), (-1, 25.5)))
    expected = calc_pixmap(copy.deepcopy(exposure), copy.deepcopy(mosaic))
    actual = pixmap_from_wcs(exposure, mosaic, chunks=(8, 16)).compute()
    assert_same(actual, expected)
    assert np.isnan(actual[:, :2]).all() and np.isnan(actual[27:]).all()
    assert (actual[~np.isnan(actual)] > 40 / 0.5).any()  # off the mosaic's bounding box
    assert mosaic.bounding_box == ((0, 40), (0, 40))  # the caller's objects are untouched


@pytest.mark.parametrize("disable_bbox", ["from", "both", "none"])
def test_disable_bbox_options_equal_calc_pixmap(disable_bbox):
    exposure, mosaic = sky_planes(array_shape=(30, 45), bounding_box=((2, 40), (-1, 25.5)))
    expected = calc_pixmap(
        copy.deepcopy(exposure), copy.deepcopy(mosaic), disable_bbox=disable_bbox
    )
    actual = pixmap_from_wcs(exposure, mosaic, chunks=16, disable_bbox=disable_bbox).compute()
    assert_same(actual, expected)


def test_shape_from_bounding_box_when_array_shape_is_none():
    exposure, mosaic = sky_planes(bounding_box=((0, 20.2), (0, 9)))
    pixmap = pixmap_from_wcs(exposure, mosaic)
    assert pixmap.shape == (10, 21, 2)
    assert_same(pixmap.compute(), calc_pixmap(copy.deepcopy(exposure), copy.deepcopy(mosaic)))


# --------------------------------------------------------------------------- undefined -> NaN


def test_tan_projection_beyond_90_degrees_is_nan_in_both_coordinates():
    # A whole-sky CAR grid seen through a TAN mosaic: the far hemisphere has no projection.
    sky = WCS(naxis=2)
    sky.wcs.ctype = ["RA---CAR", "DEC--CAR"]
    sky.wcs.crval, sky.wcs.crpix, sky.wcs.cdelt = [0.0, 0.0], [151.0, 31.0], [-1.0, 1.0]
    sky.wcs.set()
    mosaic = make_wcs((100, 100), scale=3600.0, crval=(0.0, 0.0))
    expected = calc_pixmap(sky, mosaic, (61, 301))
    actual = pixmap_from_wcs(sky, mosaic, (61, 301), chunks=32).compute()
    assert_same(actual, expected)
    undefined = np.isnan(actual).any(axis=2)
    assert 0.3 < undefined.mean() < 0.7
    assert np.isnan(actual[undefined]).all()
    # The sparse grid keeps exactly the same undefined pixels (their cells are redone exactly).
    sparse = pixmap_from_wcs(sky, mosaic, (61, 301), chunks=32, stepsize=4).compute()
    assert_same(np.isnan(sparse), np.isnan(actual))


def test_points_where_a_wcs_raises_or_is_infinite_are_nan():
    exposure, _ = sky_planes(array_shape=(20, 30))
    mosaic = SkyPlane(np.eye(2), [0.0, 0.0], undefined=20.0)
    pixmap = pixmap_from_wcs(exposure, mosaic, chunks=(7, 11)).compute()
    u, _ = exposure.pixel_to_world_values(*np.meshgrid(np.arange(30.0), np.arange(20.0)))
    assert 0 < (u > 20).sum() < u.size
    assert np.isnan(pixmap[u > 20]).all()
    x, y = mosaic.world_to_pixel_values(*exposure.pixel_to_world_values(5.0, 3.0))
    assert_same(pixmap[3, 5], np.array([x, y]))
    assert np.isfinite(pixmap[u <= 20]).all()

    class Infinite(SkyPlane):
        def world_to_pixel_values(self, u, v):
            x, y = super().world_to_pixel_values(u, v)
            return np.where(u > 20, np.inf, x), y

    pixmap = pixmap_from_wcs(exposure, Infinite(np.eye(2), [0.0, 0.0]), chunks=8).compute()
    assert np.isnan(pixmap[u > 20]).all() and np.isfinite(pixmap[u <= 20]).all()


def test_programming_errors_in_a_wcs_propagate():
    class Broken(SkyPlane):
        def world_to_pixel_values(self, u, v):
            raise TypeError("bug")

    exposure, _ = sky_planes(array_shape=(5, 5))
    with pytest.raises(TypeError, match="bug"):
        pixmap_from_wcs(exposure, Broken(np.eye(2), [0, 0])).compute()


# --------------------------------------------------------------------------- tiles and threads


@pytest.mark.parametrize("mosaic_sip", [False, True])
def test_threaded_computation_equals_single_threaded_and_calc_pixmap(mosaic_sip):
    # astropy's WCS is not thread-safe (astropy#16244): each task must use its own copy.
    exposure = make_wcs((192, 256), rotation=25.0, sip=True)
    mosaic = make_wcs((400, 400), scale=0.04, rotation=-10.0, sip=mosaic_sip)
    pixmap = pixmap_from_wcs(exposure, mosaic, chunks=16)
    assert pixmap.npartitions == 12 * 16
    single = pixmap.compute(scheduler="synchronous")
    assert_like_calc_pixmap(single, calc_pixmap(exposure, mosaic), mosaic, 16)
    for _ in range(3):
        assert_same(pixmap.compute(scheduler="threads", num_workers=8), single)


@pytest.mark.parametrize("stepsize", [None, 5])
def test_chunks_do_not_change_values(stepsize):
    exposure, mosaic = exposure_and_mosaic()
    results = [
        pixmap_from_wcs(exposure, mosaic, chunks=chunks, stepsize=stepsize).compute()
        for chunks in (None, 7, (13, 50), ((90, 6), (1, 127)))
    ]
    for result in results[1:]:
        assert_same(result, results[0])


def test_graph_is_lazy_one_task_per_tile_and_deterministically_named():
    exposure, mosaic = sky_planes(array_shape=(20, 30))
    SkyPlane.calls.clear()
    pixmap = pixmap_from_wcs(exposure, mosaic, chunks=(10, 8))
    assert SkyPlane.calls == []
    graph = dict(pixmap.__dask_graph__())
    # 2 x 4 tiles and the two WCS copies, stored once.
    assert len(graph) == 8 + 2
    assert pixmap.name == pixmap_from_wcs(exposure, mosaic, chunks=(10, 8)).name
    assert pixmap.name != pixmap_from_wcs(exposure, mosaic, chunks=(10, 8), stepsize=2).name
    mosaic.offset = np.array([1.0, 1.0])  # changed after the graph was built
    assert pixmap.name != pixmap_from_wcs(exposure, mosaic, chunks=(10, 8)).name
    block = pixmap.blocks[1, 2].compute()
    assert len(SkyPlane.calls) == 2  # one tile: one call of each
    # Built from the WCSs as they were: later changes to the caller's objects do not leak in.
    assert_same(block, calc_pixmap(exposure, SkyPlane(mosaic.matrix, [0.0, 0.0]))[10:, 16:24])


# --------------------------------------------------------------------------- stepsize


def test_stepsize_error_is_within_the_documented_bound():
    exposure = make_wcs((512, 512), rotation=25.0, sip=True)
    mosaic = make_wcs((900, 900), scale=0.04)
    exact = calc_pixmap(exposure, mosaic)
    sparse = pixmap_from_wcs(exposure, mosaic, stepsize=16, chunks=200).compute()
    error = np.abs(sparse - exact).max()
    assert 1e-4 < error < STEP16_ERROR
    # On the sparse grid's nodes (and the last row and column) the values are exact.
    nodes = np.r_[0:512:16, 511]
    assert_same(sparse[np.ix_(nodes, nodes)], exact[np.ix_(nodes, nodes)])


@given(st.integers(1, 300), st.integers(1, 40), st.data())
def test_sparse_nodes_enclose_the_tile_and_belong_to_the_global_grid(length, stepsize, data):
    start = data.draw(st.integers(0, length - 1))
    stop = data.draw(st.integers(start + 1, length))
    nodes = _nodes(start, stop, length, stepsize)
    grid = set(range(0, length, stepsize)) | {length - 1}
    assert set(nodes.tolist()) <= grid
    assert nodes[0] <= start and nodes[-1] >= stop - 1
    assert (np.diff(nodes) > 0).all()
    # No more nodes than needed: all but the two enclosing ones lie strictly inside the tile.
    assert (nodes[1:-1] > start).all() and (nodes[1:-1] < stop - 1).all()


def test_stepsize_larger_than_the_image_and_one_pixel_tiles():
    exposure, mosaic = exposure_and_mosaic((9, 12))
    exact = calc_pixmap(exposure, mosaic)
    coarse = pixmap_from_wcs(exposure, mosaic, stepsize=100).compute()
    assert_same(coarse[[0, 0, -1, -1], [0, -1, 0, -1]], exact[[0, 0, -1, -1], [0, -1, 0, -1]])
    assert np.abs(coarse - exact).max() < 1e-3
    assert_same(
        pixmap_from_wcs(exposure, mosaic, stepsize=4, chunks=1).compute(),
        pixmap_from_wcs(exposure, mosaic, stepsize=4).compute(),
    )


# --------------------------------------------------------------------------- affine helper


def test_affine_matrix_and_offset_follow_the_formula(rng):
    matrix = rng.normal(size=(2, 2))
    offset = rng.normal(size=2) * 10
    pixmap = affine_pixmap((23, 31), matrix, offset, chunks=(10, 7))
    y, x = np.mgrid[0:23, 0:31].astype(float)
    expected = np.dstack(
        [
            matrix[0, 0] * x + matrix[0, 1] * y + offset[0],
            matrix[1, 0] * x + matrix[1, 1] * y + offset[1],
        ]
    )
    np.testing.assert_allclose(pixmap.compute(), expected, rtol=0, atol=1e-12)
    assert_same(pixmap.compute(), affine_pixmap((23, 31), matrix, offset).compute())


def test_affine_rotation_scale_shift_about_a_center(rng):
    rotation, scale = rng.uniform(-180, 180), rng.uniform(0.5, 2)
    shift, center = rng.normal(size=2) * 20, rng.normal(size=2) * 5
    pixmap = affine_pixmap(
        (17, 12), rotation=rotation, scale=scale, shift=shift, center=center, chunks=5
    ).compute()
    y, x = np.mgrid[0:17, 0:12].astype(float)
    c, s = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    dx, dy = x - center[0], y - center[1]
    expected_x = scale * (c * dx - s * dy) + center[0] + shift[0]
    expected_y = scale * (s * dx + c * dy) + center[1] + shift[1]
    np.testing.assert_allclose(pixmap, np.dstack([expected_x, expected_y]), rtol=0, atol=1e-11)


def test_affine_defaults_center_on_the_grid_and_dtype():
    pixmap = affine_pixmap((5, 7), rotation=180.0, dtype=np.float32)
    assert pixmap.dtype == np.float32 and pixmap.chunks == ((5,), (7,), (2,))
    np.testing.assert_allclose(pixmap[0, 0].compute(), [6.0, 4.0], atol=1e-6)
    assert_same(affine_pixmap((2, 3)).compute()[1, 2], np.array([2.0, 1.0]))
    assert_same(affine_pixmap((2, 3), offset=(0.5, -4)).compute()[1, 2], np.array([2.5, -3.0]))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"input_wcs": object()}, TypeError, "input_wcs .* pixel_to_world_values"),
        ({"output_wcs": np.eye(2)}, TypeError, "output_wcs .* world_to_pixel_values"),
        ({"shape": 5}, TypeError, "shape"),
        ({"shape": (5, 5, 5)}, ValueError, "2 entries"),
        ({"shape": (5, 0)}, ValueError, "positive"),
        ({"shape": (5.0, 5)}, TypeError, "shape"),
        ({"stepsize": 0}, ValueError, "stepsize"),
        ({"stepsize": 2.5}, TypeError, "stepsize"),
        ({"chunks": 0}, ValueError, "chunk"),
        ({"chunks": "big"}, ValueError, "chunks"),
        ({"chunks": ((5, 4), (10,))}, ValueError, "partition"),
        ({"dtype": np.int32}, TypeError, "dtype"),
        ({"disable_bbox": "yes"}, ValueError, "disable_bbox"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, error, match):
    exposure, mosaic = sky_planes(array_shape=(10, 10))
    arguments = {"input_wcs": exposure, "output_wcs": mosaic, **kwargs}
    with pytest.raises(error, match=match):
        pixmap_from_wcs(**arguments)


def test_shape_is_required_without_array_shape_or_bounding_box():
    exposure, mosaic = sky_planes()
    with pytest.raises(ValueError, match="shape is needed"):
        pixmap_from_wcs(exposure, mosaic)


def test_wcs_with_three_pixel_axes_is_rejected():
    cube = WCS(naxis=3)
    with pytest.raises(ValueError, match="input_wcs must have 2 pixel axes"):
        pixmap_from_wcs(cube, make_wcs((5, 5)), (5, 5))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"shape": (3,)}, ValueError, "2 entries"),
        ({"matrix": np.eye(3)}, ValueError, "2 x 2"),
        ({"matrix": np.eye(2), "rotation": 5.0}, ValueError, "not both"),
        ({"scale": 0.0}, ValueError, "scale"),
        ({"shift": (1.0, np.nan)}, ValueError, "shift"),
        ({"offset": (1.0, 2.0, 3.0)}, ValueError, "offset"),
        ({"chunks": -3}, ValueError, "chunk"),
        ({"dtype": complex}, TypeError, "dtype"),
    ],
)
def test_affine_bad_input_raises_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        affine_pixmap(**{"shape": (4, 4), **kwargs})


# --------------------------------------------------------------------------- recipe


def test_outlier_detection_recipe_blots_a_median_mosaic_onto_each_exposure(rng):
    """docs/pixmaps.rst's recipe: linear blot, NaN fill, pixmap from the two WCSs."""
    mosaic_wcs = make_wcs((240, 260), scale=0.03)
    y, x = np.mgrid[0:240, 0:260]
    median = (np.sin(x / 9.0) * np.cos(y / 13.0) + rng.normal(0, 0.05, (240, 260))).astype(
        np.float32
    )
    exposures = [
        make_wcs((80, 100), rotation=0.0, sip=True),
        make_wcs((80, 100), rotation=30.0, sip=True, crpix=[20.0, 10.0]),
        make_wcs((80, 100), rotation=-75.0, sip=True, crpix=[110.0, 70.0]),
    ]
    for exposure_wcs in exposures:
        pixmap = pixmap_from_wcs(exposure_wcs, mosaic_wcs).compute()
        blotted = blot_image(median, pixmap, interp="linear", fillval=np.nan)

        expected_pixmap = calc_pixmap(exposure_wcs, mosaic_wcs)
        assert np.isfinite(expected_pixmap).all()
        assert_same(pixmap, expected_pixmap)
        assert_matches_drizzle(blotted, median, expected_pixmap, "linear", fillval=np.nan)
        px, py = pixmap[..., 0], pixmap[..., 1]
        off = (px < 0) | (px >= 260) | (py < 0) | (py >= 240)
        assert_same(np.isnan(blotted), off)
    assert off.any() and not off.all()  # the last exposure hangs off the mosaic


def test_the_recipe_in_the_docs_runs():
    """The code block after ``.. outlier-recipe`` in docs/pixmaps.rst, executed as written."""
    text = (Path(__file__).parents[2] / "docs" / "pixmaps.rst").read_text()
    block = text.split(".. outlier-recipe", 1)[1].split(".. code-block:: python", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    namespace = {}
    exec(compile("\n".join(lines), "docs/pixmaps.rst", "exec"), namespace)
    blotted = namespace["blotted"]
    assert len(blotted) == 3 and all(b.shape == (80, 100) for b in blotted)
    assert np.isfinite(blotted[0]).all()
    assert 0 < np.isnan(blotted[2]).sum() < blotted[2].size
