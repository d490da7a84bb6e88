"""Options of the public functions that are not data: a wrong one is refused before any work.

A flag read by truth took ``overwrite="False"`` (a string from a configuration file) for
true, and replaced an existing output.
"""

import time

import numpy as np
import pytest

import tileblot

from ..helpers import affine_pixmap


@pytest.fixture
def done(rng, tmp_path):
    """``(data, pixmap, store, image)``: a finished output store and the image it holds."""
    data = rng.normal(size=(40, 40)).astype(np.float32)
    pixmap = affine_pixmap((20, 24), shift=(5.5, 6.0))
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=8, progress=False)
    return data, pixmap, store, tileblot.open_output(store).image[...]


def _files(store):
    return sorted((p.relative_to(store), p.stat().st_mtime_ns) for p in store.rglob("*"))


@pytest.mark.parametrize("flag", ["overwrite", "resume", "verify", "break_lock", "progress"])
@pytest.mark.parametrize("value", ["False", "no", 0, None, np.nan])
def test_blot_to_zarr_flags_are_booleans(done, flag, value):
    data, pixmap, store, image = done
    before = _files(store)
    options = {"progress": False, flag: value}
    with pytest.raises(TypeError, match=rf"^{flag} must be True or False, got "):
        tileblot.blot_to_zarr(data, pixmap, store, interp="nearest", chunks=8, **options)
    assert _files(store) == before
    np.testing.assert_array_equal(tileblot.open_output(store).image[...], image)


def test_numpy_booleans_are_flags(done):
    data, pixmap, store, image = done
    again = tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=8,
                                  progress=np.False_, resume=np.True_)
    np.testing.assert_array_equal(again[...], image)


def test_export_and_verify_flags_are_booleans(done, tmp_path):
    *_, store, _ = done
    fits_file = tileblot.export_fits(store, tmp_path / "out.fits")
    before = fits_file.read_bytes()
    for flag in ("overwrite", "allow_incomplete"):
        with pytest.raises(TypeError, match=rf"^{flag} must be True or False, got 'no'"):
            tileblot.export_fits(store, fits_file, **{flag: "no"})
    assert fits_file.read_bytes() == before
    with pytest.raises(TypeError, match=r"^repair must be True or False, got 'yes'"):
        tileblot.verify_output(store, repair="yes")


def test_a_client_must_be_a_client(done):
    data, pixmap, store, _ = done
    with pytest.raises(TypeError, match=r"client must be a distributed.Client, got "
                                        r"'tcp://127.0.0.1:8786' \(for a scheduler's address"):
        tileblot.blot_to_zarr(data, pixmap, store, overwrite=True, client="tcp://127.0.0.1:8786",
                              progress=False)


@pytest.mark.parametrize("shape", [(10**12, 10**12), (2**70, 2)])
def test_an_absurd_exposure_shape_is_refused_at_once(shape):
    # 10^12 listed its blocks for minutes, growing; 2^70 failed inside numpy.
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"tiles for an output of .* is more than 100,000"):
        tileblot.affine_pixmap(shape)
    assert time.monotonic() - start < 30


def test_an_absurd_stepsize_is_refused():
    # It failed at compute time, inside numpy's casting of an object array.
    pytest.importorskip("astropy")
    from ..pixmaps.skies import make_wcs

    wcs = make_wcs((8, 8))
    with pytest.raises(ValueError, match=r"stepsize must be at most 2147483647, got 2361"):
        tileblot.pixmap_from_wcs(wcs, wcs, (8, 8), stepsize=2**71)
