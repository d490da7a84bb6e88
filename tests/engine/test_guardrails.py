"""Guardrails: parameter values that would give garbage, infinities or a hopeless graph are
refused with a clear error, on every entry point; the limits sit where the numbers say."""

import time

import numpy as np
import pytest

import tileblot
from tileblot._engine._planning import MAX_TILES
from tileblot._engine._validation import FLOAT32_MAX, SINSCL_MAX

ENTRY_POINTS = {
    "blot_image": lambda data, pixmap, **kw: tileblot.blot_image(data, pixmap, **kw),
    "blot": lambda data, pixmap, **kw: tileblot.blot(data, pixmap, **kw),
    "blot_to_zarr": lambda data, pixmap, **kw: tileblot.blot_to_zarr(
        data, pixmap, __import__("zarr").storage.MemoryStore(), progress=False, **kw),
}


@pytest.fixture
def scene(rng):
    data = rng.normal(size=(40, 40)).astype(np.float32)
    y, x = np.mgrid[0:24, 0:24].astype(np.float64)
    pixmap = np.dstack([x * 0.9 + 5.3 + 0.01 * y, y * 0.95 + 6.7])
    return data, pixmap


@pytest.mark.parametrize("sinscl", [1.0, 3.7, SINSCL_MAX])
def test_sinc_stays_an_interpolation_up_to_its_limit(sinscl, scene):
    # The weights' worst-case gain up to SINSCL_MAX is 3.2 (see _validation): the output stays
    # within that of the data. sinscl=100 gave values near 4e9 from this kind of data.
    data, pixmap = scene
    out = tileblot.blot_image(data, pixmap, interp="sinc", sinscl=sinscl)
    assert np.abs(out).max() <= 3.3 * np.abs(data).max()


def test_sinc_weights_gain_bounds_the_limit():
    # The limit from the kernel's own formula: sum |w| over the taps, worst case over offsets.
    from tileblot._kernels.sinc import NSINC, sinc_state

    taps = np.arange(-NSINC, NSINC + 1)
    taper = sinc_state(1.0)[1:]
    # Offsets in [-1/2, 1/2) that never make sinscl * d an integer (the kernel's exact cases).
    offsets = (np.arange(2000) + 0.5) / 2000 - 0.5

    def gain(sinscl):
        weights = taper / (sinscl * offsets[:, None] - taps)
        weights /= weights.sum(axis=1, keepdims=True)
        return np.abs(weights).sum(axis=1).max()

    assert gain(SINSCL_MAX) < 3.3
    assert gain(SINSCL_MAX + 3) > 30  # past the limit it degrades fast


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize(("options", "words"), [
    ({"interp": "sinc", "sinscl": 100.0}, "sinscl must be at most 10"),
    ({"interp": "sinc", "sinscl": SINSCL_MAX * 1.01}, "sinscl must be at most 10"),
    ({"fillval": 1e40}, "fillval must fit float32"),
    ({"fillval": -3.5e38}, "fillval must fit float32"),
    ({"fillval": 3.4028236e38}, r"fillval must fit float32 \(at most 3.4028235e\+38"),
    ({"iscale": 1e39}, "iscale must be within float32's range"),
])
def test_out_of_range_parameters_are_refused(entry, options, words, scene):
    data, pixmap = scene
    with pytest.raises(ValueError, match=words):
        ENTRY_POINTS[entry](data, pixmap, **options)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_ragged_or_non_numeric_lists_are_named(entry, scene):
    data, pixmap = scene
    cases = [({"data": [[1.0, 2.0], [3.0]]}, ValueError, "data is not a rectangular array"),
             ({"pixmap": [[[1.0, 2.0]], [[1.0]]]}, ValueError,
              "pixmap is not a rectangular array"),
             ({"data": [[object()] * 3] * 3}, TypeError, "data must be numeric")]
    for given, error, words in cases:
        args = {"data": data, "pixmap": pixmap, **given}
        with pytest.raises(error, match=words):
            ENTRY_POINTS[entry](args["data"], args["pixmap"])


def test_other_interpolators_ignore_sinscl_as_drizzle_does(scene):
    data, pixmap = scene
    np.testing.assert_array_equal(tileblot.blot_image(data, pixmap, interp="linear", sinscl=50.0),
                                  tileblot.blot_image(data, pixmap, interp="linear"))


# 3.4028235e38: float32's largest as numpy prints it, a little past it as a float, which
# float32 (and drizzle) round to it.
@pytest.mark.parametrize("fillval", [np.nan, np.inf, -np.inf, FLOAT32_MAX, -FLOAT32_MAX,
                                     3.4028235e38, -3.4028235e38])
def test_explicit_nan_inf_and_float32_extremes_are_kept_as_fillval(fillval, scene):
    data, pixmap = scene
    pixmap = pixmap + 30.0  # partly off the image
    out = tileblot.blot_image(data, pixmap, fillval=fillval)
    off = ~np.isfinite(out) if not np.isfinite(fillval) else out == np.float32(fillval)
    assert off.any()
    np.testing.assert_array_equal(out[off], np.float32(fillval))


@pytest.mark.parametrize("entry", ["blot", "blot_to_zarr"])
def test_too_many_tiles_are_refused_at_once_with_a_suggestion(entry):
    data = np.zeros((50, 50), np.float32)
    y, x = np.mgrid[0:800, 0:800].astype(np.float64) / 16
    pixmap = np.dstack([x, y])
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"640,000 tiles .* more than 100,000.* e\.g\. 1024"):
        ENTRY_POINTS[entry](data, pixmap, chunks=1)
    # Refused before any graph is built: before this guard, no output in 300 s.
    assert time.perf_counter() - start < 30


def test_the_tile_limit_itself_is_allowed():
    data = np.zeros((10, 10), np.float32)
    pixmap = np.zeros((MAX_TILES // 1000, 1000, 2))  # exactly MAX_TILES one-pixel tiles
    assert tileblot.blot(data, pixmap, chunks=1).npartitions == MAX_TILES
