"""``tileblot export`` and FITS-named outputs at the command line."""

import numpy as np
import pytest

import tileblot
from tileblot._cli import main

from ..helpers import affine_pixmap

fits = pytest.importorskip("astropy.io.fits")
astropy_wcs = pytest.importorskip("astropy.wcs")

from ..pixmaps.skies import make_wcs  # noqa: E402  (needs astropy: after the skip)

SHAPE = (30, 40)


def _run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def output(rng, tmp_path):
    """A finished output store (threaded, in-process) and the image it holds."""
    data = rng.normal(size=(50, 50)).astype(np.float32)
    pixmap = affine_pixmap(SHAPE, scale=0.9, angle=0.1, shift=(3.0, 4.0))
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, str(store), interp="poly3", chunks=8, progress=False)
    return store, tileblot.blot_image(data, pixmap, interp="poly3", precision="high")


def test_export_with_wcs_from(output, tmp_path, capsys):
    store, expected = output
    wcs = make_wcs(SHAPE, rotation=12.0)
    fits.PrimaryHDU(np.zeros(SHAPE, np.float32), header=wcs.to_header()).writeto(
        tmp_path / "exposure.fits")
    status, out, err = _run(["export", store, tmp_path / "out.fits", "--wcs-from",
                             tmp_path / "exposure.fits"], capsys)
    assert (status, err) == (0, "")
    assert out.startswith(f"wrote {tmp_path / 'out.fits'}: 30 x 40 float32, WCS from ")
    with fits.open(tmp_path / "out.fits") as hdul:
        np.testing.assert_array_equal(hdul[0].data, expected)
        back = astropy_wcs.WCS(hdul[0].header)
    y, x = np.mgrid[0:30:4j, 0:40:5j]
    np.testing.assert_allclose(back.pixel_to_world_values(x, y), wcs.pixel_to_world_values(x, y),
                               rtol=0, atol=1e-12)


def test_export_without_a_wcs_says_so(output, tmp_path, capsys):
    store, expected = output
    status, out, err = _run(["export", store, tmp_path / "out.fits"], capsys)
    assert (status, err) == (0, "")
    assert "no WCS (the store records none; give --wcs-from)" in out
    np.testing.assert_array_equal(fits.getdata(tmp_path / "out.fits"), expected)


def test_export_usage_errors(output, tmp_path, capsys):
    store, _ = output
    (tmp_path / "taken.fits").write_bytes(b"keep")
    cases = [
        (["export", store, tmp_path / "out.zarr"], "not named like a FITS file"),
        (["export", tmp_path / "nothing.zarr", tmp_path / "a.fits"], "no such output store"),
        (["export", store, tmp_path / "taken.fits"], "already exists"),
        (["export", store, tmp_path / "a.fits.gz"], "compressed FITS"),
        (["export", store], "FILE.fits"),
    ]
    for argv, words in cases:
        status, out, err = _run(argv, capsys)
        assert (status, out) == (2, ""), argv
        assert err.startswith("tileblot: error: ") and err.count("\n") == 1, err
        assert words in err, err
    assert (tmp_path / "taken.fits").read_bytes() == b"keep"
    assert not (tmp_path / "a.fits").exists()


@pytest.mark.parametrize("name", ["OUT.fits", "out.FITS.gz"])
def test_blot_refuses_a_fits_named_output(name, rng, tmp_path, capsys):
    np.save(tmp_path / "pixmap.npy", affine_pixmap(SHAPE))
    np.save(tmp_path / "data.npy", rng.normal(size=(40, 50)).astype(np.float32))
    status, out, err = _run(["blot", tmp_path / "data.npy", tmp_path / "pixmap.npy",
                             tmp_path / name], capsys)
    assert (status, out) == (2, "")
    stem = str(tmp_path / name)[: -len(name)] + name.split(".")[0]
    assert f"then 'tileblot export {stem}.zarr {tmp_path / name}'" in err
    assert not (tmp_path / name).exists()  # never a zarr directory with a FITS name
