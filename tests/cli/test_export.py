"""``tileblot export`` and FITS-named outputs at the command line."""

import numpy as np
import pytest

import tileblot

from ..helpers import affine_pixmap, run_cli

fits = pytest.importorskip("astropy.io.fits")
astropy_wcs = pytest.importorskip("astropy.wcs")

from ..pixmaps.skies import make_wcs  # noqa: E402  (needs astropy: after the skip)

SHAPE = (30, 40)


@pytest.fixture
def output(rng, tmp_path):
    """A finished output store (threaded, in-process) and the image it holds."""
    data = rng.normal(size=(50, 50)).astype(np.float32)
    pixmap = affine_pixmap(SHAPE, scale=0.9, angle=0.1, shift=(3.0, 4.0))
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, str(store), interp="poly3", chunks=8, progress=False)
    return store, tileblot.blot_image(data, pixmap, interp="poly3", precision="high")


@pytest.mark.parametrize("name", ["out.fits", "out.fits.gz"])
def test_export_with_wcs_from(output, tmp_path, capsys, name):
    store, expected = output
    wcs = make_wcs(SHAPE, rotation=12.0)
    fits.PrimaryHDU(np.zeros(SHAPE, np.float32), header=wcs.to_header()).writeto(
        tmp_path / "exposure.fits")
    status, out, err = run_cli(["export", store, tmp_path / name, "--wcs-from",
                             tmp_path / "exposure.fits"], capsys)
    assert (status, err) == (0, "")
    assert out.startswith(f"wrote {tmp_path / name}: 30 x 40 float32, WCS from ")
    with fits.open(tmp_path / name) as hdul:
        np.testing.assert_array_equal(hdul[0].data, expected)
        back = astropy_wcs.WCS(hdul[0].header)
    y, x = np.mgrid[0:30:4j, 0:40:5j]
    np.testing.assert_allclose(back.pixel_to_world_values(x, y), wcs.pixel_to_world_values(x, y),
                               rtol=0, atol=1e-12)


def test_export_without_a_wcs_says_so(output, tmp_path, capsys):
    store, expected = output
    status, out, err = run_cli(["export", store, tmp_path / "out.fits"], capsys)
    assert (status, err) == (0, "")
    assert "no WCS (the store records none; give --wcs-from)" in out
    np.testing.assert_array_equal(fits.getdata(tmp_path / "out.fits"), expected)



def test_export_of_a_damaged_store_is_a_failure_not_a_usage_error(output, tmp_path, capsys):
    # Exit 2 says "change the command"; no command exports a chunk that does not decode.
    store, _ = output
    chunk = store / "image" / "c" / "1" / "1"
    chunk.write_bytes(chunk.read_bytes()[:10])
    status, _, err = run_cli(["export", store, tmp_path / "out.fits"], capsys)
    assert status == 1 and err.count("\n") == 1, err
    assert "a chunk of its image in rows 8 to 15 does not decode" in err and "--verify" in err
    assert not (tmp_path / "out.fits").exists()


def test_export_of_an_incomplete_store_warns_and_says_so_in_the_file(output, tmp_path, capsys):
    store, _ = output
    for key in ("tiles_done/c/1/1", "image/c/1/1"):
        (store / key).unlink()
    # (Printed as one "tileblot: warning:" line outside pytest, which records warnings.)
    with pytest.warns(UserWarning, match="incomplete: 1 of 20 tiles are not complete"):
        status, out, _ = run_cli(["export", store, tmp_path / "out.fits",
                                  "--allow-incomplete"], capsys)
    assert status == 0 and out.startswith(f"wrote {tmp_path / 'out.fits'}")
    assert fits.getheader(tmp_path / "out.fits")["TBMISSNG"] == 1

def test_export_usage_errors(output, tmp_path, capsys):
    store, _ = output
    (tmp_path / "taken.fits").write_bytes(b"keep")
    (tmp_path / "empty").mkdir()
    other = make_wcs(SHAPE[::-1])  # another exposure's WCS: its pixels elsewhere on the sky
    fits.PrimaryHDU(np.zeros(SHAPE[::-1], np.float32), header=other.to_header()).writeto(
        tmp_path / "other.fits")
    cases = [
        (["export", store, tmp_path / "out.zarr"], "not named like a FITS file"),
        (["export", tmp_path / "nothing.zarr", tmp_path / "a.fits"], "no such output store"),
        # An empty folder: "no such output store" here, "not a tileblot output" from info.
        (["export", tmp_path / "empty", tmp_path / "a.fits"], "is not a tileblot output store"),
        (["export", store, tmp_path / "taken.fits"], "already exists"),
        (["export", store], "FILE.fits"),
        (["export", store, tmp_path / "a.fits", "--wcs-from", tmp_path / "other.fits"],
         "--wcs-from " + str(tmp_path / "other.fits") + " describes a 40 x 30 image, but the "
         "exposure's (the store's image) is 30 x 40"),
    ]
    for argv, words in cases:
        status, out, err = run_cli(argv, capsys)
        assert (status, out) == (2, ""), argv
        assert err.startswith("tileblot: error: ") and err.count("\n") == 1, err
        assert words in err, err
    assert (tmp_path / "taken.fits").read_bytes() == b"keep"
    assert not (tmp_path / "a.fits").exists()


@pytest.mark.parametrize(("name", "written"), [("OUT.fits", "OUT.fits"),
                                               ("out.FITS.gz", "out.FITS.gz"),
                                               ("out.fits.fz", "out.fits"), ("out.fz", "out.fits")])
def test_blot_refuses_a_fits_named_output(name, written, rng, tmp_path, capsys):
    np.save(tmp_path / "pixmap.npy", affine_pixmap(SHAPE))
    np.save(tmp_path / "data.npy", rng.normal(size=(40, 50)).astype(np.float32))
    status, out, err = run_cli(["blot", tmp_path / "data.npy", tmp_path / "pixmap.npy",
                             tmp_path / name], capsys)
    assert (status, out) == (2, "")
    stem = str(tmp_path / name)[: -len(name)] + name.split(".")[0]
    assert f"then 'tileblot export {stem}.zarr {tmp_path / written}'" in err
    assert not (tmp_path / name).exists()  # never a zarr directory with a FITS name


def test_blot_wcs_from_then_export_writes_the_exposures_wcs(rng, tmp_path, capsys):
    mosaic_wcs = make_wcs((60, 70), scale=0.05)
    center = tuple(map(float, mosaic_wcs.pixel_to_world_values(35.0, 30.0)))
    exposure_wcs = make_wcs(SHAPE, scale=0.051, rotation=-30.0, crval=center)
    data = rng.normal(size=(60, 70)).astype(np.float32)
    fits.PrimaryHDU(data, header=mosaic_wcs.to_header()).writeto(tmp_path / "mosaic.fits")
    hdus = [fits.PrimaryHDU(), fits.ImageHDU(np.zeros(SHAPE, np.float32),
                                             header=exposure_wcs.to_header(), name="SCI")]
    fits.HDUList(hdus).writeto(tmp_path / "exposure.fits")
    status, _, err = run_cli(["blot", tmp_path / "mosaic.fits", "--wcs-from",
                           f"{tmp_path / 'exposure.fits'}[SCI]", tmp_path / "out.zarr",
                           "--interp", "linear", "--workers", "1", "--no-progress"], capsys)
    assert (status, err) == (0, "")
    status, out, err = run_cli(["info", tmp_path / "out.zarr"], capsys)
    assert (status, err) == (0, "")
    assert "wcs:        exposure and mosaic recorded" in out
    assert "unit:       none recorded (the mosaic gave none" in out
    status, out, err = run_cli(["export", tmp_path / "out.zarr", tmp_path / "out.fits"], capsys)
    assert (status, err) == (0, "")
    assert "WCS recorded" in out
    # The WCS as the exposure's file holds it (14 digits), exactly as astropy reads that file.
    expected = astropy_wcs.WCS(fits.getheader(tmp_path / "exposure.fits", "SCI"))
    with fits.open(tmp_path / "out.fits") as hdul:
        back = astropy_wcs.WCS(hdul[0].header)
        np.testing.assert_array_equal(hdul[0].data, tileblot.open_output(
            tmp_path / "out.zarr").image[...])
    y, x = np.mgrid[0:30:4j, 0:40:5j]
    np.testing.assert_allclose(back.pixel_to_world_values(x, y),
                               expected.pixel_to_world_values(x, y), rtol=0, atol=1e-12)
    mosaic_back = tileblot.open_output(tmp_path / "out.zarr").mosaic_wcs
    np.testing.assert_allclose(mosaic_back.pixel_to_world_values(x, y),
                               mosaic_wcs.pixel_to_world_values(x, y), rtol=0, atol=1e-10)
    # --wcs-from another image's WCS is named as the one that disagrees with the record.
    elsewhere = make_wcs(SHAPE, crval=(center[0] + 0.01, center[1]))
    fits.PrimaryHDU(np.zeros(SHAPE, np.float32),
                    header=elsewhere.to_header()).writeto(tmp_path / "other.fits")
    status, out, err = run_cli(["export", tmp_path / "out.zarr", tmp_path / "other_out.fits",
                                "--wcs-from", tmp_path / "other.fits"], capsys)
    assert status == 2
    assert err.startswith(f"tileblot: error: --wcs-from {tmp_path / 'other.fits'} and the "
                          "exposure WCS the store records put the image ")
    assert not (tmp_path / "other_out.fits").exists()
    # A resume with it is refused for its WCS, not for "the pixmap" made from it.
    status, out, err = run_cli(["blot", tmp_path / "mosaic.fits", "--wcs-from",
                                tmp_path / "other.fits", tmp_path / "out.zarr", "--resume",
                                "--interp", "linear", "--workers", "1", "--no-progress"], capsys)
    assert status == 2
    assert err.startswith(f"tileblot: error: cannot resume '{tmp_path / 'out.zarr'}': the "
                          "exposure WCS now and the one it records put the image "), err


def test_export_refuses_a_wcs_whose_tables_cards_cannot_hold_naming_it(output, tmp_path,
                                                                        capsys):
    from ..io.test_fits import _with_tables

    store, _ = output  # records no WCS: nothing to compare with
    hdul = _with_tables(make_wcs(SHAPE), SHAPE, 0.8).to_fits()
    hdul[0].data = np.zeros(SHAPE, np.float32)
    hdul.writeto(tmp_path / "flt.fits")
    status, _, err = run_cli(["export", store, tmp_path / "out.fits", "--wcs-from",
                              tmp_path / "flt.fits"], capsys)
    assert status == 2
    assert err.startswith(f"tileblot: error: --wcs-from {tmp_path / 'flt.fits'}: this WCS holds "
                          "look-up-table distortion")
    assert "set to None is recorded without them" in err
    assert not (tmp_path / "out.fits").exists()
