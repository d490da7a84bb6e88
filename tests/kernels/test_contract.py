"""What every kernel promises, whatever its family: the halo, global coordinates, read-only
inputs. Kernels are called through the registry's entry points, not through blot_image."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tileblot import INTERPOLATORS, PRECISIONS
from tileblot._kernels._registry import resolve

from ..strategies import edge_values, grid_floats

#: NaN border around the image, so reads outside the image are caught as well.
PAD = 16


def run_kernel(interp, window, y0, x0, shape, pixmap, precision, fillval=0.0, iscale=1.0,
               sinscl=1.0):
    """Call ``interp``'s numba entry point directly; returns the float32 output."""
    interpolator = resolve(interp)
    options = {"sinscl": sinscl} if "sinscl" in dict(interpolator.options) else {}
    out = np.full(pixmap.shape[:2], np.float32(-12345.0))
    interpolator.kernel(window, y0, x0, shape[0], shape[1], pixmap, out, fillval, iscale,
                        interpolator.state(**options), precision == "drizzle")
    return out


def declared_window(pixmap, shape, precision, halo):
    """``floor`` of the bounding box of the on-image coordinates, +/- ``halo``, clipped to the
    image, computed here from the definition (not with the planning module); or None."""
    height, width = shape
    coords = pixmap.astype(np.float32) if precision == "drizzle" else pixmap
    x = coords[..., 0].astype(np.float64)
    y = coords[..., 1].astype(np.float64)
    on = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    if not on.any():
        return None
    return (
        max(int(np.floor(y[on].min())) - halo, 0),
        min(int(np.floor(y[on].max())) + halo + 1, height),
        max(int(np.floor(x[on].min())) - halo, 0),
        min(int(np.floor(x[on].max())) + halo + 1, width),
    )


def axis_coordinate(n):
    """A coordinate along an axis of length ``n``, most likely near one of its edges."""
    return st.one_of(
        grid_floats(-1.5, 3.0),
        grid_floats(n - 3.0, n + 1.0),
        grid_floats(0.0, n - 2.0**-24),
        st.sampled_from(edge_values(n)),
    )


@st.composite
def halo_cases(draw, interp):
    min_size = resolve(interp).min_size
    height = draw(st.integers(min_size, 20))
    width = draw(st.integers(min_size, 20))
    points = draw(
        st.lists(st.tuples(axis_coordinate(width), axis_coordinate(height)), min_size=1,
                 max_size=6)
    )
    seed = draw(st.integers(0, 2**32 - 1))
    sinscl = draw(st.sampled_from([0.5, 1.0, 1.7]))
    return (height, width), np.array([points], dtype=np.float64), seed, sinscl


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_kernel_reads_only_inside_its_declared_halo(interp, precision, data):
    """Every pixel outside floor(bbox) +/- halo (and every pixel outside the image) is NaN;
    a single read of one, even with weight zero, would make the output NaN."""
    shape, pixmap, seed, sinscl = data.draw(halo_cases(interp))
    height, width = shape
    dtype = np.float32 if precision == "drizzle" else np.float64
    padded = np.full((height + 2 * PAD, width + 2 * PAD), np.nan, dtype=dtype)
    window = declared_window(pixmap, shape, precision, resolve(interp).halo)
    if window is not None:
        ya, yb, xa, xb = window
        values = np.random.default_rng(seed).normal(size=(yb - ya, xb - xa))
        padded[PAD + ya:PAD + yb, PAD + xa:PAD + xb] = values
    out = run_kernel(interp, padded, -PAD, -PAD, shape, pixmap, precision, sinscl=sinscl)
    assert not np.isnan(out).any(), f"read outside the window {window} for {pixmap.tolist()}"
    if window is None:
        np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize(
    ("precision", "window_dtype", "pixmap_dtype"),
    [("drizzle", np.float32, np.float64), ("high", np.float64, np.float32)],
)
@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_read_only_inputs_give_identical_results(rng, interp, precision, window_dtype,
                                                 pixmap_dtype):
    """numba compiles separate specialisations for read-only arrays (zarr, distributed)."""
    shape = (30, 34)
    window = rng.normal(size=(20, 25)).astype(window_dtype)
    y0, x0 = 6, 4
    pixmap = np.dstack([rng.uniform(x0 - 2, x0 + 27, (9, 11)),
                        rng.uniform(y0 - 2, y0 + 22, (9, 11))]).astype(pixmap_dtype)
    # Keep every read inside the window (coordinates far enough from its border).
    pixmap[..., 0] = np.clip(pixmap[..., 0], x0 + 8, x0 + 16)
    pixmap[..., 1] = np.clip(pixmap[..., 1], y0 + 8, y0 + 11)
    pixmap[0, 0] = (-1.0, 3.0)  # and one off the image
    expected = run_kernel(interp, window, y0, x0, shape, pixmap, precision, fillval=2.0,
                          iscale=1.5)
    window_ro = window.copy()
    pixmap_ro = pixmap.copy()
    window_ro.flags.writeable = False
    pixmap_ro.flags.writeable = False
    got = run_kernel(interp, window_ro, y0, x0, shape, pixmap_ro, precision, fillval=2.0,
                     iscale=1.5)
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0] == 2.0
    assert np.isfinite(got).all()


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("interp", INTERPOLATORS)
def test_kernel_works_in_global_coordinates(rng, interp, precision):
    """A window at origin (y0, x0) gives what the whole image gives at origin (0, 0)."""
    shape = (40, 45)
    dtype = np.float32 if precision == "drizzle" else np.float64
    image = rng.normal(size=shape).astype(dtype)
    pixmap = np.dstack([rng.uniform(20.0, 26.0, (5, 6)), rng.uniform(22.0, 30.0, (5, 6))])
    whole = run_kernel(interp, image, 0, 0, shape, pixmap, precision)
    y0, x0 = 10, 9  # covers rows 10..39 and columns 9..44: every read of these coordinates
    windowed = run_kernel(interp, image[y0:, x0:].copy(), y0, x0, shape, pixmap, precision)
    np.testing.assert_array_equal(windowed, whole)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_odd_layouts_and_flags_share_one_compiled_variant(rng, precision):
    """Read-only, big-endian, strided and Fortran-ordered float32 windows and float64 pixmaps
    give the same result as the plain arrays and compile no variant of their own."""
    entry = resolve("linear").entry_point(precision)
    shape = (30, 34)
    image = rng.normal(size=shape).astype(np.float32)
    pixmap = np.dstack([rng.uniform(0, 34, (6, 7)), rng.uniform(0, 30, (6, 7))])
    expected = run_kernel("linear", image, 0, 0, shape, pixmap, precision)
    # A numba dispatcher, except with NUMBA_DISABLE_JIT=1 (then there is nothing to count).
    before = len(getattr(entry, "signatures", []))
    read_only = image.copy()
    read_only.flags.writeable = False
    strided = np.zeros((60, 34), np.float32)
    strided[::2] = image
    pixmap_ro = pixmap.copy()
    pixmap_ro.flags.writeable = False
    larger = np.zeros((9, 12, 2))
    larger[2:8, 4:11] = pixmap  # a tile of a larger pixmap in memory: read in place
    variants = [
        (read_only, pixmap_ro),
        (image, larger[2:8, 4:11]),
        (image.astype(">f4"), pixmap.astype(">f8")),
        (strided[::2], np.asfortranarray(pixmap)),
        (np.asfortranarray(image), pixmap[:, ::1]),
    ]
    for window, coords in variants:
        got = run_kernel("linear", window, np.int32(0), 0, shape, coords, precision)
        np.testing.assert_array_equal(got, expected)
    assert len(getattr(entry, "signatures", [])) == before


def test_out_must_be_writeable_c_contiguous_float32(rng):
    interp = resolve("nearest")
    window = np.ones((4, 4))
    pixmap = np.ones((2, 3, 2))
    for out, error in [(np.empty((2, 3)), TypeError), (np.empty((3, 2), np.float32), ValueError),
                       (np.empty((3, 2), np.float32).T, ValueError)]:
        with pytest.raises(error, match="out"):
            interp.kernel(window, 0, 0, 4, 4, pixmap, out, 0.0, 1.0, interp.state(), True)
