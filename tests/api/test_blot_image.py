"""``tileblot.blot_image``: drizzle 3.0 as the oracle, input handling, errors."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tileblot import INTERPOLATORS, PRECISIONS, blot_image
from tileblot._kernels._registry import resolve

from ..oracle import (
    ORACLE_INTERPOLATORS,
    assert_matches_drizzle,
    defined_for_drizzle,
    drizzle_blot,
    tolerance,
)
from ..strategies import affine_pixmap, edge_values, probe_edges

# --------------------------------------------------------------------------- oracle


@st.composite
def blot_cases(draw, interp):
    """Random image (down to the stencil's size), distorted pixmap partly off the image with
    edge probes, fill value and iscale."""
    min_size = resolve(interp).min_size
    height = draw(st.integers(min_size, 24))
    width = draw(st.integers(min_size, 24))
    shape_out = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    seed = draw(st.integers(0, 2**32 - 1))
    amplitude = draw(st.sampled_from([1e-3, 1.0, 1e4]))
    rng = np.random.default_rng(seed)
    data = (amplitude * (rng.normal(size=(height, width)) + rng.normal())).astype(np.float32)
    centre = (draw(st.floats(-2, width + 2)), draw(st.floats(-2, height + 2)))
    pixmap = affine_pixmap(
        shape_out,
        centre,
        scale=draw(st.floats(0.3, 3.0)),
        angle=draw(st.floats(-np.pi, np.pi)),
        distortion=draw(st.floats(0.0, 2.0)),
        phase=draw(st.floats(0.0, 6.0)),
    )
    pixmap = probe_edges(pixmap, (height, width), draw(st.sampled_from([0.0, 0.3, 1.0])), rng)
    fillval = draw(st.sampled_from([0.0, -1.5, 7.0, np.nan, 1e20]))
    iscale = draw(st.one_of(st.just(1.0), st.floats(0.05, 50.0)))
    return data, pixmap, fillval, iscale


@pytest.mark.parametrize("interp", ORACLE_INTERPOLATORS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_matches_drizzle(interp, data):
    image, pixmap, fillval, iscale = data.draw(blot_cases(interp))
    pixmap = defined_for_drizzle(pixmap, image.shape, interp)
    ours = blot_image(image, pixmap, fillval=fillval, iscale=iscale, interp=interp)
    assert_matches_drizzle(ours, image, pixmap, interp, fillval=fillval, iscale=iscale)


@pytest.mark.parametrize("interp", ORACLE_INTERPOLATORS)
def test_matches_drizzle_on_a_rotated_distorted_image(rng, interp):
    data = rng.normal(10.0, 3.0, size=(45, 61)).astype(np.float32)
    pixmap = affine_pixmap((50, 70), (30.0, 22.0), scale=0.93, angle=0.3, distortion=1.7)
    pixmap = defined_for_drizzle(pixmap, data.shape, interp)
    assert ((pixmap[..., 0] < 0) | (pixmap[..., 0] >= 61)).any(), "partly off the image"
    ours = blot_image(data, pixmap, interp=interp, fillval=-3.0, iscale=0.7)
    assert_matches_drizzle(ours, data, pixmap, interp, fillval=-3.0, iscale=0.7)


@pytest.mark.parametrize("interp", ORACLE_INTERPOLATORS)
def test_matches_drizzle_at_every_edge_probe(rng, interp):
    """Every pair of edge-probing coordinates, on images from the stencil's size up."""
    m = resolve(interp).min_size
    for height, width in [(m, m), (m, m + 3), (m + 5, m), (m + 9, m + 7)]:
        data = rng.normal(size=(height, width)).astype(np.float32)
        xs = [*edge_values(width), width / 2 + 0.3]
        ys = [*edge_values(height), height / 2 - 0.2]
        pixmap = np.array([[(x, y) for x in xs] for y in ys], dtype=np.float64)
        pixmap = defined_for_drizzle(pixmap, data.shape, interp)
        ours = blot_image(data, pixmap, interp=interp, fillval=np.nan)
        assert_matches_drizzle(ours, data, pixmap, interp, fillval=np.nan)


def test_lanczos_names_of_drizzle_are_aliases(rng):
    data = rng.normal(size=(12, 12)).astype(np.float32)
    pixmap = affine_pixmap((6, 6), (5.5, 6.2), 1.1, 0.2)
    for name, alias in [("lan3", "lanczos3"), ("lan5", "lanczos5"), ("linear", "bilinear")]:
        np.testing.assert_array_equal(
            blot_image(data, pixmap, interp=name), blot_image(data, pixmap, interp=alias)
        )


# --------------------------------------------------------------------------- input handling


@pytest.fixture
def image_and_pixmap(rng):
    """Integer-valued float32 data (exact in every dtype below) and a float32-exact pixmap."""
    data = rng.integers(0, 1000, size=(21, 26)).astype(np.float32)
    pixmap = affine_pixmap((17, 19), (12.3, 10.1), 1.2, 0.4, distortion=0.8)
    return data, pixmap.astype(np.float32).astype(np.float64)


def _data_variants(data):
    big = np.zeros((2 * data.shape[0], 3 * data.shape[1]), dtype=np.float32)
    big[::2, ::3] = data
    return {
        "int16": data.astype(np.int16),
        "int32": data.astype(np.int32),
        "int64": data.astype(np.int64),
        "uint16": data.astype(np.uint16),
        ">f4": data.astype(">f4"),
        "strided view": big[::2, ::3],
        "fortran": np.asfortranarray(data),
        "float64": data.astype(np.float64),
        ">f8": data.astype(">f8"),
        "float64 view": big.astype(np.float64)[::2, ::3],
        "list": data.tolist(),
    }


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_data_dtype_and_layout_do_not_change_values(image_and_pixmap, interp, precision):
    data, pixmap = image_and_pixmap
    as_float32 = blot_image(data, pixmap, interp=interp, precision=precision)
    as_float64 = blot_image(data.astype(np.float64), pixmap, interp=interp, precision=precision)
    if precision == "drizzle":
        np.testing.assert_array_equal(as_float32, as_float64)
    for name, variant in _data_variants(data).items():
        got = blot_image(variant, pixmap, interp=interp, precision=precision)
        reads_float32 = name in (">f4", "strided view", "fortran")
        expected = as_float32 if reads_float32 else as_float64
        np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", ["nearest", "poly5", "lan3"])
def test_pixmap_dtype_byte_order_and_layout_do_not_change_values(
    image_and_pixmap, interp, precision
):
    data, pixmap = image_and_pixmap
    expected = blot_image(data, pixmap, interp=interp, precision=precision)
    wide = np.zeros((pixmap.shape[0], 2 * pixmap.shape[1], 2))
    wide[:, ::2] = pixmap
    for variant in [
        pixmap.astype(">f8"),
        pixmap.astype(np.float32),
        pixmap.astype(">f4"),
        wide[:, ::2],
        np.asfortranarray(pixmap),
    ]:
        got = blot_image(data, variant, interp=interp, precision=precision)
        np.testing.assert_array_equal(got, expected, err_msg=str(variant.dtype))


def test_big_endian_data_matches_drizzle_on_native_data(image_and_pixmap):
    data, pixmap = image_and_pixmap
    ours = blot_image(data.astype(">f4"), pixmap)
    assert_matches_drizzle(ours, data, pixmap, "poly5")


def test_out_img_is_filled_in_place_and_returned(image_and_pixmap):
    data, pixmap = image_and_pixmap
    expected = blot_image(data, pixmap, interp="poly3", fillval=-1.0)
    out = np.full(pixmap.shape[:2], 123.0, dtype=np.float32)
    assert blot_image(data, pixmap, out_img=out, interp="poly3", fillval=-1.0) is out
    np.testing.assert_array_equal(out, expected)
    # A strided out_img is filled in place too; the columns between are untouched.
    base = np.full((pixmap.shape[0], 2 * pixmap.shape[1]), 5.0, dtype=np.float32)
    view = base[:, ::2]
    assert blot_image(data, pixmap, out_img=view, interp="poly3", fillval=-1.0) is view
    np.testing.assert_array_equal(base[:, ::2], expected)
    assert (base[:, 1::2] == 5.0).all()


@pytest.mark.parametrize("interp", ORACLE_INTERPOLATORS)
def test_deprecated_arguments_warn_and_act_as_in_drizzle(image_and_pixmap, interp):
    data, pixmap = image_and_pixmap
    pixmap = defined_for_drizzle(pixmap, data.shape, interp)
    ny, nx = pixmap.shape[:2]
    with pytest.warns(DeprecationWarning) as ours_warnings:
        ours = blot_image(data, pixmap, 2.0, 3.0, (nx, ny), interp=interp, iscale=1.5)
    messages = " ".join(str(w.message) for w in ours_warnings)
    for name in ("pix_ratio", "exptime", "output_pixel_shape"):
        assert name in messages
    with pytest.warns(DeprecationWarning):
        theirs = drizzle_blot(data, pixmap, interp, pix_ratio=2.0, exptime=3.0,
                              output_pixel_shape=(nx, ny), iscale=1.5)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance(data, 1.5 * 3.0 / 4.0))
    # pix_ratio divides iscale by its square; exptime multiplies it.
    with pytest.warns(DeprecationWarning, match="pix_ratio"):
        np.testing.assert_array_equal(
            blot_image(data, pixmap, 2.0, interp=interp),
            blot_image(data, pixmap, interp=interp, iscale=0.25),
        )
    with pytest.warns(DeprecationWarning, match="exptime"):
        np.testing.assert_array_equal(
            blot_image(data, pixmap, exptime=4.0, interp=interp),
            blot_image(data, pixmap, interp=interp, iscale=4.0),
        )


def test_output_pixel_shape_must_match_pixmap(image_and_pixmap):
    data, pixmap = image_and_pixmap
    ny, nx = pixmap.shape[:2]
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="output_pixel_shape"):
        blot_image(data, pixmap, output_pixel_shape=(ny + 1, nx))


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_num_threads_does_not_change_the_result(rng, interp, precision):
    data = rng.normal(size=(40, 50)).astype(np.float32)
    pixmap = affine_pixmap((61, 47), (25.0, 20.0), 0.9, -0.5, distortion=1.0)
    one = blot_image(data, pixmap, interp=interp, precision=precision, num_threads=1)
    for num_threads in (2, 3, 16, None):
        many = blot_image(data, pixmap, interp=interp, precision=precision,
                          num_threads=num_threads)
        np.testing.assert_array_equal(many, one)


# --------------------------------------------------------------------------- errors

_GOOD_DATA = np.ones((8, 8), dtype=np.float32)
_GOOD_PIXMAP = np.full((3, 4, 2), 2.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"data": np.ones(8, np.float32)}, ValueError, "2-D"),
        ({"data": np.ones((2, 8, 8), np.float32)}, ValueError, "2-D"),
        ({"data": np.ones((0, 8), np.float32)}, ValueError, "empty"),
        ({"data": np.ones((8, 0), np.float32)}, ValueError, "empty"),
        ({"data": np.ones((8, 8), np.complex64)}, TypeError, "complex"),
        ({"data": np.full((8, 8), "a")}, TypeError, "data must have a real numeric dtype"),
        ({"data": np.full((8, 8), None, dtype=object)}, TypeError, "data must have a real"),
        ({"pixmap": np.ones((3, 4, 3))}, ValueError, r"\(ny, nx, 2\)"),
        ({"pixmap": np.ones((3, 4))}, ValueError, r"\(ny, nx, 2\)"),
        ({"pixmap": np.ones((0, 4, 2))}, ValueError, "pixmap is empty"),
        ({"pixmap": np.ones((3, 4, 2), np.complex128)}, TypeError, "pixmap must be real"),
        ({"interp": "cubic"}, ValueError, "unknown interp 'cubic'"),
        ({"interp": 3}, TypeError, "interp must be a string"),
        ({"out_img": np.zeros((4, 3), np.float32)}, ValueError, "out_img has shape"),
        ({"out_img": np.zeros((3, 4), np.float64)}, TypeError, "out_img must have dtype float32"),
        ({"out_img": [[0.0] * 4] * 3}, TypeError, "out_img must be a numpy array"),
        ({"iscale": np.nan}, ValueError, "iscale must be finite"),
        ({"iscale": np.inf}, ValueError, "iscale must be finite"),
        ({"iscale": "2"}, TypeError, "iscale must be a real number"),
        ({"fillval": "INDEF"}, TypeError, "fillval must be a real number"),
        ({"precision": "double"}, ValueError, "precision must be 'drizzle' or 'high'"),
        ({"num_threads": 0}, ValueError, "num_threads must be at least 1"),
        ({"num_threads": 2.0}, TypeError, "num_threads must be a positive integer"),
        ({"num_threads": True}, TypeError, "num_threads must be a positive integer"),
        ({"sinscl": 0.0}, ValueError, "sinscl must be positive"),
        ({"sinscl": -1.0}, ValueError, "sinscl must be positive"),
        ({"sinscl": np.nan}, ValueError, "sinscl must be finite"),
        ({"sincscl": "x"}, TypeError, "sincscl must be a real number"),
        ({"sinscl": 2.0, "sincscl": 3.0}, ValueError, "disagree"),
        ({"data": np.ones((2, 8), np.float32), "interp": "poly3"}, ValueError, "at least 3"),
        ({"data": None}, TypeError, "data must be an array in memory, got NoneType"),
        ({"data": "mosaic.zarr"}, TypeError, "blot_image does not open files; tileblot.blot"),
        ({"pixmap": Path("pixmap.npy")}, TypeError, "pixmap must be an array in memory"),
        ({"data": [[1.0, 2.0], [3.0]]}, ValueError, "data is not a rectangular array"),
        ({"data": [[object()]]}, TypeError, "data must be numeric"),
        ({"iscale": 10**400}, ValueError, "iscale is beyond the range of a float"),
        ({"fillval": -(10**400)}, ValueError, "fillval is beyond the range of a float"),
        ({"exptime": 1e300}, ValueError, "iscale \\* exptime / pix_ratio\\*\\*2 must be within"),
        ({"iscale": 1e20, "exptime": 1e20}, ValueError, "must be within float32's range"),
        ({"pix_ratio": 1e-200}, ValueError, "got 1e-200, whose square underflows to 0"),
        ({"pix_ratio": 0}, ValueError, "pix_ratio must be non-zero"),
    ],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bad_input_raises_a_clear_error(kwargs, error, match):
    args = {"data": _GOOD_DATA, "pixmap": _GOOD_PIXMAP, **kwargs}
    with pytest.raises(error, match=match):
        blot_image(**args)


def test_unknown_dask_chunk_sizes_are_named():
    data = da.from_array(np.arange(64.0).reshape(8, 8), chunks=4)
    masked = data[data[:, 0] > 8]
    with pytest.raises(ValueError, match=r"data has unknown chunk sizes.*compute_chunk_sizes"):
        blot_image(masked, _GOOD_PIXMAP)
    pixmap = da.from_array(_GOOD_PIXMAP, chunks=(2, 2, 2))
    with pytest.raises(ValueError, match="pixmap has unknown chunk sizes"):
        blot_image(_GOOD_DATA, pixmap[pixmap[:, 0, 0] > 0])


class _Sliceable:
    """An array-like numpy cannot convert, as astropy's FITS sections and h5py-likes are."""

    def __init__(self, array):
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self._array = array

    def __getitem__(self, key):
        return self._array[key]


def test_array_likes_numpy_cannot_convert_are_read_by_slicing(image_and_pixmap):
    data, pixmap = image_and_pixmap
    expected = blot_image(data, pixmap, interp="linear")
    out = blot_image(_Sliceable(data), _Sliceable(pixmap), interp="linear")
    np.testing.assert_array_equal(out, expected)


def test_out_img_interleaved_with_an_input_but_apart_is_accepted():
    buffer = np.zeros((8, 8, 2), np.float32)
    buffer[..., 1] = np.arange(64.0).reshape(8, 8)
    pixmap = np.full((8, 8, 2), 2.5)
    out = blot_image(buffer[..., 1], pixmap, out_img=buffer[..., 0], interp="linear")
    assert out.base is buffer and np.all(out == blot_image(buffer[..., 1].copy(), pixmap,
                                                           interp="linear"))


@pytest.mark.parametrize("overlap", ["data", "pixmap"])
def test_out_img_sharing_memory_with_an_input_is_refused(overlap):
    # Bands would read values other bands had already overwritten.
    data = np.arange(64.0, dtype=np.float32).reshape(8, 8)
    pixmap = np.full((4, 4, 2), 2.5, dtype=np.float32)
    out = data[:4, :4] if overlap == "data" else pixmap[..., 0]
    before = data.copy(), pixmap.copy()
    with pytest.raises(ValueError, match=f"out_img shares memory with {overlap}"):
        blot_image(data, pixmap, out_img=out)
    np.testing.assert_array_equal(data, before[0])
    np.testing.assert_array_equal(pixmap, before[1])


def test_read_only_out_img_is_rejected():
    out = np.zeros((3, 4), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blot_image(_GOOD_DATA, _GOOD_PIXMAP, out_img=out)


def test_bad_sinscl_beside_its_alias_is_named():
    with pytest.raises(TypeError, match="sinscl must be a real number"):
        blot_image(np.ones((5, 5)), np.zeros((2, 2, 2)), interp="sinc", sinscl="abc", sincscl=2)
    with pytest.raises(ValueError, match="disagree"):
        blot_image(np.ones((5, 5)), np.zeros((2, 2, 2)), interp="sinc", sinscl=3, sincscl=2)
