"""Pixmaps from WCS pairs, against drizzle's ``calc_pixmap``: values, NaN, tiles, threads."""

import copy

import dask.array as da
import numpy as np
import pytest
from astropy.wcs import WCS
from drizzle.utils import calc_pixmap

from tileblot import pixmap_from_wcs

from .skies import (
    SkyPlane,
    assert_like_calc_pixmap,
    assert_same,
    exposure_and_mosaic,
    make_gwcs,
    make_wcs,
    sky_planes,
)

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


@pytest.mark.parametrize("chunks", [(101, 150), (100, 150), (103, 70)])
def test_chunks_do_not_change_values_beside_an_undefined_region(chunks):
    """Rows past 100 are off the exposure's bounding box (NaN). A tile ending on node row 100
    used to interpolate that row, and one reaching past it to evaluate it exactly (the next
    node row, NaN, came in with a weight of 0)."""
    pytest.importorskip("gwcs")
    shape = (160, 150)
    exposure = make_gwcs(shape, rotation=20.0,
                         bounding_box=((-0.5, 149.5), (-0.5, 100.2)))
    mosaic = make_gwcs((400, 400), scale=0.02, distortion=False)
    whole = pixmap_from_wcs(exposure, mosaic, shape, stepsize=5).compute()
    assert np.isnan(whole[101:]).all() and np.isfinite(whole[:101]).all()
    tiled = pixmap_from_wcs(exposure, mosaic, shape, stepsize=5, chunks=chunks).compute()
    assert_same(tiled, whole)


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


@pytest.mark.parametrize("side", ["input_wcs", "output_wcs"])
@pytest.mark.parametrize(("card", "value", "words"), [
    ("cd", np.zeros((2, 2)), "matrix is singular"),
    ("crval", [150.1, 95.0], "Ill-conditioned"),
])
def test_an_invalid_wcs_is_a_value_error_naming_it(side, card, value, words):
    """wcslib's error, raised as astropy copies the WCS, was a TypeError saying that the WCS
    "must support copy.deepcopy" (drizzle's calc_pixmap raises wcslib's ValueError)."""
    exposure, mosaic = make_wcs((10, 10)), make_wcs((20, 20))
    bad = {"input_wcs": exposure, "output_wcs": mosaic}[side]
    setattr(bad.wcs, card, value)
    with pytest.raises(ValueError, match=rf"^{side} is not a valid WCS: .*{words}"):
        pixmap_from_wcs(exposure, mosaic)


def test_wcs_with_three_pixel_axes_is_rejected():
    cube = WCS(naxis=3)
    with pytest.raises(ValueError, match="input_wcs must have 2 pixel axes"):
        pixmap_from_wcs(cube, make_wcs((5, 5)), (5, 5))


@pytest.mark.parametrize(("ctype", "words"), [
    (["GLON-TAN", "GLAT-TAN"], r"\['pos.galactic.lon', 'pos.galactic.lat'\] and the mosaic's "
                               r"\['pos.eq.ra', 'pos.eq.dec'\]"),
    (["DEC--TAN", "RA---TAN"], r"\['pos.eq.dec', 'pos.eq.ra'\] and the mosaic's"),
])
def test_world_axes_of_another_kind_or_order_are_refused(ctype, words):
    """World values pass unconverted (as in calc_pixmap): a galactic exposure on an
    equatorial mosaic landed on another part of the sky, and looked fully covered."""
    mosaic = make_wcs((40, 40))
    exposure = mosaic.deepcopy()
    exposure.wcs.ctype = ctype
    if ctype[0].startswith("DEC"):
        exposure.wcs.crval = exposure.wcs.crval[::-1]
    exposure.wcs.set()
    with pytest.raises(ValueError, match=words + ".*same celestial frame and axis order"):
        pixmap_from_wcs(exposure, mosaic, (20, 20))


@pytest.mark.parametrize("ctype", [["X", "Y"], ["", ""]])
def test_a_sky_exposure_on_a_mosaic_without_celestial_axes_is_refused(ctype):
    """A mosaic WCS whose CTYPE cards were lost: its world values are not degrees."""
    exposure = make_wcs((40, 40))
    mosaic = WCS(naxis=2)
    mosaic.wcs.ctype = ctype
    with pytest.raises(ValueError, match=r"\['pos.eq.ra', 'pos.eq.dec'\] and the mosaic's "
                                         r"\[None, None\]"):
        pixmap_from_wcs(exposure, mosaic, (20, 20))


def test_equatorial_frames_that_differ_warn():
    mosaic = make_wcs((40, 40))
    exposure = mosaic.deepcopy()
    exposure.wcs.radesys, exposure.wcs.equinox = "FK5", 2000.0
    with pytest.warns(UserWarning, match=r"exposure's WCS is in <FK5 Frame.*mosaic's in <ICRS"):
        pixmap_from_wcs(exposure, mosaic, (20, 20))
    pixmap_from_wcs(mosaic.deepcopy(), mosaic, (20, 20))  # the same frame: no warning
    plain = WCS(naxis=2)  # no celestial axes at all: nothing to compare
    pixmap_from_wcs(plain, plain.deepcopy(), (20, 20))
