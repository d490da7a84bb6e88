"""Honest outputs and messages: precision stated, valid JSON everywhere, clear input errors,
``--stepsize`` for ``--wcs-from`` pixmaps."""

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap, run_cli
from tileblot._cli import main
from tileblot._io._store import IMAGE

fits = pytest.importorskip("astropy.io.fits")

from tileblot._cli import _demo  # noqa: E402  (needs astropy: after the skip)


def _strict_json(text):
    """Parse JSON as other languages do: a bare NaN or Infinity is an error."""
    def refuse(name):
        raise ValueError(f"not JSON: bare {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def paths(rng, tmp_path):
    data = rng.normal(size=(60, 70)).astype(np.float32)
    zarr.create_array(str(tmp_path / "data.zarr"), data=data, chunks=(32, 32))
    np.save(tmp_path / "pixmap.npy", affine_pixmap((40, 50), scale=1.05, angle=0.2,
                                                   shift=(20.0, -3.0)))
    return {"data": str(tmp_path / "data.zarr"), "pixmap": str(tmp_path / "pixmap.npy"),
            "out": str(tmp_path / "out.zarr"), "dir": tmp_path, "values": data}


@pytest.mark.parametrize("precision", ["high", "drizzle"])
def test_info_says_which_precision_and_emits_valid_json(precision, paths, scheduler, capsys):
    status, _, err = run_cli(["blot", paths["data"], paths["pixmap"], paths["out"], "--fillval",
                           "nan", "--precision", precision, "--chunks", "16", "--scheduler",
                           scheduler, "--no-progress"], capsys)
    assert (status, err) == (0, "")
    status, out, _ = run_cli(["info", paths["out"]], capsys)
    line = next(line for line in out.splitlines() if line.startswith("precision:"))
    assert precision in line
    assert ("drizzle 3.0's numbers" in line) == (precision == "drizzle")
    assert ("2e-2 of the peak" in line) == (precision == "high")
    status, out, _ = run_cli(["info", paths["out"], "--json"], capsys)
    record = _strict_json(out)  # before: a bare NaN
    assert record["params"]["fillval"] == "NaN"
    assert np.isnan(float(record["params"]["fillval"]))
    # The store's own attributes are valid JSON too, for any zarr reader.
    for meta in Path(paths["out"]).rglob("zarr.json"):
        _strict_json(meta.read_text())


def test_blot_help_states_the_precision_and_the_ranges(capsys):
    assert main(["blot", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "not drizzle's numbers" in text and "--precision drizzle gives drizzle 3.0's" in text
    assert "0 < --sinscl <= 10" in text
    assert "error growing as S**2" in text


@pytest.mark.parametrize(("ext", "words"), [
    ("5", "has no extension 5 (it has 2: 0 to 1)"),
    ("-3", "has no extension -3"),
    ("NOPE", "has no extension 'NOPE'"),
])
def test_fits_extension_out_of_range_is_one_line(ext, words, paths, capsys):
    mosaic = paths["dir"] / "mosaic.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(paths["values"], name="SCI")]).writeto(mosaic)
    status, out, err = run_cli(["blot", f"{mosaic}[{ext}]", paths["pixmap"], paths["out"]], capsys)
    assert status == 2 and out == ""
    assert err.startswith("tileblot: error: ") and err.count("\n") == 1, err  # was IndexError
    assert words in err


def test_stepsize_for_wcs_from_pixmaps(paths, scheduler, capsys):
    tmp = paths["dir"]
    mosaic_wcs = _demo.tan_wcs((60, 70), 0.04)
    center = mosaic_wcs.pixel_to_world_values(33.0, 28.0)
    exposure_wcs = _demo.tan_wcs((40, 50), 0.043, center=tuple(map(float, center)),
                                 rotation=25.0)
    fits.PrimaryHDU(paths["values"], header=mosaic_wcs.to_header()).writeto(tmp / "m.fits")
    fits.PrimaryHDU(np.zeros((40, 50), np.float32),
                    header=exposure_wcs.to_header()).writeto(tmp / "e.fits")
    status, _, err = run_cli(["blot", tmp / "m.fits", paths["out"], "--wcs-from", tmp / "e.fits",
                           "--stepsize", "8", "--interp", "linear", "--chunks", "16",
                           "--scheduler", scheduler, "--no-progress"], capsys)
    assert (status, err) == (0, "")
    from astropy.wcs import WCS

    pixmap = tileblot.pixmap_from_wcs(WCS(fits.getheader(tmp / "e.fits")),
                                      WCS(fits.getheader(tmp / "m.fits")), (40, 50),
                                      stepsize=8).compute()
    exact = tileblot.pixmap_from_wcs(WCS(fits.getheader(tmp / "e.fits")),
                                     WCS(fits.getheader(tmp / "m.fits")), (40, 50)).compute()
    assert not np.array_equal(pixmap, exact)  # the option reached the pixmap
    expected = tileblot.blot_image(paths["values"], pixmap, interp="linear", precision="high")
    np.testing.assert_array_equal(zarr.open_group(paths["out"], mode="r")[IMAGE][...], expected)


def test_stepsize_without_wcs_from_is_a_usage_error(paths, capsys):
    status, _, err = run_cli(["blot", paths["data"], paths["pixmap"], paths["out"], "--stepsize",
                           "4"], capsys)
    assert status == 2 and "--stepsize applies to --wcs-from" in err


def test_progress_outside_a_terminal_is_plain_lines(paths, scheduler, capsys):
    status, out, err = run_cli(["blot", paths["data"], paths["pixmap"], paths["out"], "--chunks",
                             "8", "--scheduler", scheduler], capsys)
    assert (status, err) == (0, "")
    assert "\r" not in out  # before: one line redrawn by carriage returns
    lines = [line for line in out.splitlines() if line.startswith("progress: ")]
    assert lines and lines[-1].startswith("progress: 35 of 35 tiles (100%)"), out
    assert "tiles/s" in lines[-1] and "in all" in lines[-1]
    assert len(lines) <= 100 // 5 + 2  # every 5 % at most (or 30 s)


def test_a_tileblot_output_is_accepted_as_data(paths, scheduler, capsys):
    common = ["--chunks", "16", "--scheduler", scheduler, "--no-progress"]
    assert run_cli(["blot", paths["data"], paths["pixmap"], paths["out"], *common], capsys)[0] == 0
    again = str(paths["dir"] / "again.zarr")
    # Before: a zarr node-type error. The output's image is the data.
    status, _, err = run_cli(["blot", paths["out"], paths["pixmap"], again, *common], capsys)
    assert (status, err) == (0, "")
    first = zarr.open_group(paths["out"], mode="r")[IMAGE][...]
    expected = tileblot.blot_image(first, np.load(paths["pixmap"]), precision="high")
    np.testing.assert_array_equal(zarr.open_group(again, mode="r")[IMAGE][...], expected)


def test_another_zarr_group_as_data_names_an_array_to_use(paths, capsys):
    group = zarr.open_group(str(paths["dir"] / "group.zarr"), mode="w")
    group.create_array("sci", data=paths["values"])
    status, _, err = run_cli(["blot", paths["dir"] / "group.zarr", paths["pixmap"], paths["out"]],
                          capsys)
    assert status == 2 and err.count("\n") == 1
    assert "is a zarr group, not an array: name one of its arrays, e.g." in err
    assert "group.zarr/sci" in err
