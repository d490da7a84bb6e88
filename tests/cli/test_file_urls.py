"""``file://`` at the command line: every input and output, and one store however spelled."""

import json

import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap, run_cli
from tileblot._io._store import DONE, IMAGE

fits = pytest.importorskip("astropy.io.fits")

DATA_SHAPE, OUT_SHAPE = (60, 70), (40, 50)


@pytest.fixture
def files(rng, tmp_path):
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    pixmap = affine_pixmap(OUT_SHAPE, scale=1.05, angle=0.2, shift=(8.0, -3.0))
    zarr.create_array(tmp_path / "mosaic.zarr", data=data, chunks=(32, 32))
    np.save(tmp_path / "pixmap.npy", pixmap)
    expected = tileblot.blot_image(data, pixmap, interp="linear", precision="high")
    return tmp_path, expected


def _url(path):
    url = path.as_uri()
    assert url.startswith("file:///")
    return url


def test_blot_info_export_and_resume_on_file_urls(files, scheduler, capsys):
    folder, expected = files
    out = folder / "out.zarr"
    blot = ["blot", _url(folder / "mosaic.zarr"), _url(folder / "pixmap.npy"), _url(out),
            "--interp", "linear", "--chunks", "16", "--scheduler", scheduler, "--no-progress"]
    status, stdout, err = run_cli(blot, capsys)
    assert (status, err) == (0, ""), err
    assert "12 of 12 tiles" in stdout
    # Written where the URL says, as a plain directory store.
    np.testing.assert_array_equal(zarr.open_group(out, mode="r")[IMAGE][...], expected)

    status, stdout, err = run_cli(["info", _url(out), "--json"], capsys)
    assert (status, err) == (0, "")
    info = json.loads(stdout)
    assert info["complete"] and info["tiles_done"] == 12

    status, stdout, err = run_cli(["export", _url(out), folder / "out.fits"], capsys)
    assert (status, err) == (0, ""), err
    np.testing.assert_array_equal(fits.getdata(folder / "out.fits"), expected)
    # The FITS file spelled as a URL too (compressed, for good measure).
    status, stdout, err = run_cli(["export", _url(out), _url(folder / "out.fits.gz")], capsys)
    assert (status, err) == (0, ""), err
    np.testing.assert_array_equal(fits.getdata(folder / "out.fits.gz"), expected)

    # An interrupted job (two records gone, their chunks garbage), resumed by URL.
    group = zarr.open_group(out, mode="r+")
    group[DONE][0, 1] = 0
    group[DONE][2, 2] = 0
    group[IMAGE][0:16, 16:32] = 1e30
    status, stdout, err = run_cli([*blot, "--resume"], capsys)
    assert (status, err) == (0, ""), err
    assert "2 of 12 tiles" in stdout and "10 already done" in stdout
    np.testing.assert_array_equal(zarr.open_group(out, mode="r")[IMAGE][...], expected)


def test_a_path_and_its_file_url_are_one_store(files, scheduler, capsys):
    folder, expected = files
    out = folder / "out.zarr"
    by_path = ["blot", folder / "mosaic.zarr", folder / "pixmap.npy", out, "--interp", "linear",
               "--chunks", "16", "--scheduler", scheduler, "--no-progress"]
    assert run_cli(by_path, capsys)[0] == 0
    # The URL names the store the path made: it exists already...
    by_url = [*by_path[:3], _url(out), *by_path[4:]]
    status, stdout, err = run_cli(by_url, capsys)
    assert (status, stdout) == (2, "") and "already exists" in err
    # ...and resuming it by URL finds its tiles, and the inputs spelled as URLs are the same
    # inputs as the paths the job started with.
    zarr.open_group(out, mode="r+")[DONE][1, 1] = 0
    resume = ["blot", _url(folder / "mosaic.zarr"), _url(folder / "pixmap.npy"), _url(out),
              *by_path[4:], "--resume"]
    status, stdout, err = run_cli(resume, capsys)
    assert (status, err) == (0, ""), err
    assert "1 of 12 tiles" in stdout and "11 already done" in stdout
    np.testing.assert_array_equal(zarr.open_group(out, mode="r")[IMAGE][...], expected)


def test_wcs_from_a_file_url(rng, tmp_path, scheduler, capsys):
    from tests.pixmaps.skies import make_wcs

    mosaic_wcs = make_wcs((60, 70), scale=0.05)
    center = tuple(map(float, mosaic_wcs.pixel_to_world_values(35.0, 30.0)))
    exposure_wcs = make_wcs((30, 40), scale=0.051, rotation=-30.0, crval=center)
    fits.PrimaryHDU(rng.normal(size=(60, 70)).astype(np.float32),
                    header=mosaic_wcs.to_header()).writeto(tmp_path / "mosaic.fits")
    fits.PrimaryHDU(np.zeros((30, 40), np.float32), header=exposure_wcs.to_header()).writeto(
        tmp_path / "exposure.fits")
    argv = ["--interp", "linear", "--scheduler", scheduler, "--no-progress"]
    for name, spell in (("by-path.zarr", lambda p: p), ("by-url.zarr", _url)):
        status, _, err = run_cli(["blot", spell(tmp_path / "mosaic.fits"), spell(tmp_path / name),
                               "--wcs-from", spell(tmp_path / "exposure.fits"), *argv], capsys)
        assert (status, err) == (0, ""), err
    by_path, by_url = (tileblot.open_output(tmp_path / n) for n in ("by-path.zarr", "by-url.zarr"))
    np.testing.assert_array_equal(by_url.image[...], by_path.image[...])
    assert by_url.record["wcs"] == by_path.record["wcs"]
