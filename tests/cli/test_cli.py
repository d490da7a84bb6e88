"""The command line, in-process through ``main`` (and once through the installed script).

Outputs are checked against ``tileblot.blot_image`` on the same inputs. Most runs share one
module-scoped LocalCluster through ``--scheduler``; one test lets the CLI start its own.
"""

import contextlib
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap, run_cli
from tileblot._cli import main
from tileblot._cli._parser import (
    NUMBER_OPTIONS,
    _number,
    build_parser,
    join_negative_numbers,
    take_extra,
)
from tileblot._io._store import DONE, IMAGE, describe

fits = pytest.importorskip("astropy.io.fits")
astropy_wcs = pytest.importorskip("astropy.wcs")

from tileblot._cli import _demo  # noqa: E402  (needs astropy: after the skip)
from tileblot._pixmaps._wcs import pixmap_from_wcs  # noqa: E402

DATA_SHAPE = (60, 70)
OUT_SHAPE = (40, 50)


@pytest.fixture
def inputs(rng, tmp_path):
    """A zarr mosaic, the same pixmap as .npy and as zarr, and their numpy values."""
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    pixmap = affine_pixmap(OUT_SHAPE, scale=1.05, angle=0.2, shift=(8.0, -3.0))
    zarr.create_array(str(tmp_path / "data.zarr"), data=data, chunks=(32, 32))
    np.save(tmp_path / "pixmap.npy", pixmap)
    zarr.create_array(str(tmp_path / "pixmap.zarr"), data=pixmap, chunks=(16, 16, 2))
    return {"data": data, "pixmap": pixmap, "dir": tmp_path,
            **{k: str(tmp_path / k) for k in ("data.zarr", "pixmap.npy", "pixmap.zarr")},
            "out": str(tmp_path / "out.zarr")}


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _image(store):
    return zarr.open_group(store, mode="r")[IMAGE][...]


def test_blot_npy_pixmap_on_its_own_local_cluster(inputs, capsys):
    status, out, err = run_cli(
        ["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"], "--interp", "lan3",
         "--precision", "drizzle", "--chunks", "16", "--fillval", "nan", "--iscale", "2",
         "--workers", "1", "--no-progress"], capsys)
    assert (status, err) == (0, "")
    assert "cluster: local, 1 worker x 1 thread" in out
    assert "12 of 12 tiles" in out
    expected = tileblot.blot_image(inputs["data"], inputs["pixmap"], interp="lan3",
                                   precision="drizzle", fillval=np.nan, iscale=2.0)
    np.testing.assert_array_equal(_image(inputs["out"]), expected)


def test_blot_zarr_pixmap_options_after_paths(inputs, scheduler, capsys):
    # Options between the paths: argparse alone would take only the first run of paths.
    status, out, err = run_cli(
        ["blot", inputs["data.zarr"], "--interp", "sinc", inputs["pixmap.zarr"], inputs["out"],
         "--sinscl", "1.5", "--chunks", "16,24", "--scheduler", scheduler, "--no-progress"],
        capsys)
    assert (status, err) == (0, "")
    assert f"cluster: scheduler {scheduler}" in out
    expected = tileblot.blot_image(inputs["data"], inputs["pixmap"], interp="sinc", sinscl=1.5,
                                   precision="high")
    np.testing.assert_array_equal(_image(inputs["out"]), expected)
    assert zarr.open_group(inputs["out"], mode="r")[IMAGE].chunks == (16, 24)


def _wcs_pair():
    mosaic = _demo.tan_wcs(DATA_SHAPE, 0.04)
    center = mosaic.pixel_to_world_values(33.0, 28.0)
    exposure = _demo.tan_wcs(OUT_SHAPE, 0.043, center=tuple(map(float, center)), rotation=25.0)
    return mosaic, exposure


def _write_fits(path, data, wcs, *, ext=None):
    header = wcs.to_header() if wcs is not None else None
    if ext is None:
        fits.PrimaryHDU(data, header=header).writeto(path)
    else:
        hdus = [fits.PrimaryHDU(), fits.ImageHDU(data, header=header, name=ext)]
        fits.HDUList(hdus).writeto(path)


@pytest.mark.parametrize("mosaic_kind", ["fits", "zarr"])
def test_blot_wcs_from(mosaic_kind, inputs, scheduler, capsys):
    mosaic_wcs, exposure_wcs = _wcs_pair()
    tmp = inputs["dir"]
    if mosaic_kind == "fits":
        _write_fits(tmp / "mosaic.fits", inputs["data"], mosaic_wcs)
        data = str(tmp / "mosaic.fits")
    else:
        # The layout the demo writes and the CLI documents: FITS cards in attrs["wcs"].
        data = str(tmp / "mosaic.zarr")
        zarr.create_array(data, data=inputs["data"], chunks=(32, 32),
                          attributes={"wcs": _demo.wcs_to_attrs(mosaic_wcs)})
    _write_fits(tmp / "exposure.fits", np.zeros(OUT_SHAPE, np.float32), exposure_wcs, ext="SCI")
    status, _, err = run_cli(
        ["blot", data, "--wcs-from", f"{tmp / 'exposure.fits'}[SCI]", inputs["out"],
         "--interp", "linear", "--fillval", "nan", "--chunks", "16", "--scheduler", scheduler,
         "--no-progress"], capsys)
    assert (status, err) == (0, "")
    # The WCSs as the files hold them: headers keep 14 significant digits, not all 17.
    mosaic_header = (fits.getheader(data) if mosaic_kind == "fits"
                     else fits.Header(_demo.wcs_to_attrs(mosaic_wcs)))
    pixmap = pixmap_from_wcs(astropy_wcs.WCS(fits.getheader(tmp / "exposure.fits", "SCI")),
                             astropy_wcs.WCS(mosaic_header), OUT_SHAPE).compute()
    expected = tileblot.blot_image(inputs["data"], pixmap, interp="linear", fillval=np.nan,
                                   precision="high")
    assert np.isfinite(expected).mean() > 0.5  # the exposure overlaps the mosaic
    np.testing.assert_array_equal(_image(inputs["out"]), expected)


def test_blot_wcs_from_a_file_with_distortion_tables(inputs, scheduler, capsys):
    """An HST-like file keeps look-up-table distortions in WCSDVARR extensions: the pixmap
    uses them (read with the file, not the header alone), and the output, whose FITS
    cards cannot hold them, records no exposure WCS and says so."""
    from ..io.test_fits import _with_tables

    mosaic_wcs, exposure_wcs = _wcs_pair()
    tmp = inputs["dir"]
    _write_fits(tmp / "mosaic.fits", inputs["data"], mosaic_wcs)
    distorted = _with_tables(exposure_wcs, OUT_SHAPE, 0.8)
    hdul = distorted.to_fits()
    hdul[0].data = np.zeros(OUT_SHAPE, np.float32)
    hdul.writeto(tmp / "flt.fits")
    # A warning (one "tileblot: warning:" line outside the tests, which make warnings errors).
    with pytest.warns(UserWarning, match=r"the output records no exposure WCS: this WCS holds "
                                         r"look-up-table distortion \(cpdis1, cpdis2"):
        status, _, err = run_cli(
            ["blot", str(tmp / "mosaic.fits"), "--wcs-from", str(tmp / "flt.fits"),
             inputs["out"], "--interp", "linear", "--chunks", "16", "--scheduler", scheduler,
             "--no-progress"], capsys)
    assert (status, err) == (0, "")
    with fits.open(tmp / "flt.fits") as hdul:
        read = astropy_wcs.WCS(hdul[0].header, hdul)
    pixmap = pixmap_from_wcs(read, astropy_wcs.WCS(fits.getheader(tmp / "mosaic.fits")),
                             OUT_SHAPE).compute()
    np.testing.assert_array_equal(_image(inputs["out"]), tileblot.blot_image(
        inputs["data"], pixmap, interp="linear", precision="high"))
    assert tileblot.open_output(inputs["out"]).wcs is None


def test_resume_rewrites_only_missing_tiles(inputs, scheduler, capsys):
    argv = ["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"], "--chunks", "16",
            "--scheduler", scheduler, "--no-progress"]
    assert run_cli(argv, capsys)[0] == 0
    # An interrupted job: two tiles never recorded, their chunks half-written garbage.
    group = zarr.open_group(inputs["out"], mode="r+")
    group[DONE][0, 1] = 0
    group[DONE][2, 2] = 0
    group[IMAGE][0:16, 16:32] = -99.0
    group[IMAGE][32:40, 32:48] = -99.0
    status, out, err = run_cli([*argv, "--resume"], capsys)
    assert (status, err) == (0, "")
    assert "2 of 12 tiles" in out and "10 already done" in out
    expected = tileblot.blot_image(inputs["data"], inputs["pixmap"], precision="high")
    np.testing.assert_array_equal(_image(inputs["out"]), expected)
    # Complete now: a resume has nothing to do, and starts no cluster to do it.
    status, out, err = run_cli(["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"],
                                "--chunks", "16", "--no-progress", "--resume"], capsys)
    assert (status, err) == (0, "")
    assert out == (f"{inputs['out']} is complete already: nothing to do (--verify decodes "
                   "every tile)\n")
    # Complete, but its last job died holding the lock: the resume takes it over and
    # releases it (it returned early and left the lock).
    from tileblot._io._lock import LOCK

    group = zarr.open_group(inputs["out"], mode="r+")
    group.create_group(LOCK, attributes={LOCK: {"job": "gone", "host": socket.gethostname(),
                                                "pid": _dead_pid(), "started": "?"}})
    status, out, err = run_cli([*argv, "--resume"], capsys)
    assert (status, err) == (0, "") and "0 of 12 tiles" in out, out
    assert describe(inputs["out"])["lock"] is None


def test_chunks_auto_and_a_resume_with_it_keeps_the_stores_tiling(inputs, scheduler, capsys):
    # --chunks auto was a usage error, though the Python API takes chunks="auto"; a resume
    # with it takes the tiling the store has (another budget would choose another).
    argv = ["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"], "--scheduler",
            scheduler, "--no-progress"]
    assert run_cli([*argv, "--chunks", "auto"], capsys)[0] == 0
    assert run_cli([*argv, "--chunks", "16", "--overwrite"], capsys)[0] == 0
    zarr.open_group(inputs["out"], mode="r+")[DONE][0, 1] = 0
    status, out, err = run_cli([*argv, "--chunks", "AUTO", "--resume"], capsys)
    assert (status, err) == (0, "") and "1 of 12 tiles" in out
    np.testing.assert_array_equal(_image(inputs["out"]), tileblot.blot_image(
        inputs["data"], inputs["pixmap"], precision="high"))


def test_resume_of_a_job_that_never_ran_starts_it(inputs, scheduler, capsys):
    status, out, err = run_cli(["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"],
                             "--chunks", "16", "--resume", "--scheduler", scheduler,
                             "--no-progress"], capsys)
    assert (status, err) == (0, "")
    assert "does not exist yet: starting the job" in out and "12 of 12 tiles" in out
    expected = tileblot.blot_image(inputs["data"], inputs["pixmap"], precision="high")
    np.testing.assert_array_equal(_image(inputs["out"]), expected)


def test_resume_with_other_parameters_is_refused_before_any_cluster(inputs, scheduler, capsys):
    argv = ["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"], "--chunks", "16",
            "--scheduler", scheduler, "--no-progress"]
    assert run_cli(argv, capsys)[0] == 0
    # No --scheduler: the check must fail before a local cluster would start.
    status, out, err = run_cli([*argv[:-3], "--interp", "linear", "--resume", "--workers", "1"],
                            capsys)
    assert status == 2 and out == "", out
    assert "cannot resume" in err and "interp" in err and err.count("\n") == 1


def test_overwrite_replaces_output(inputs, scheduler, capsys):
    common = [inputs["data.zarr"], inputs["pixmap.zarr"], inputs["out"], "--scheduler",
              scheduler, "--no-progress"]
    assert run_cli(["blot", *common, "--interp", "nearest"], capsys)[0] == 0
    status, _, err = run_cli(["blot", *common, "--interp", "poly3", "--overwrite"], capsys)
    assert (status, err) == (0, "")
    expected = tileblot.blot_image(inputs["data"], inputs["pixmap"], interp="poly3",
                                   precision="high")
    np.testing.assert_array_equal(_image(inputs["out"]), expected)


def test_info(inputs, scheduler, capsys):
    argv = ["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"], "--chunks", "16",
            "--interp", "lan5", "--scheduler", scheduler, "--no-progress"]
    assert run_cli(argv, capsys)[0] == 0
    zarr.open_group(inputs["out"], mode="r+")[DONE][1, 1] = 0
    status, out, err = run_cli(["info", inputs["out"]], capsys)
    assert (status, err) == (0, "")
    lines = dict(line.split(":", 1) for line in out.splitlines())
    assert lines["image"].split() == ["40", "x", "50", "float32"]
    assert lines["tiles"].strip() == "16 x 16 (12 tiles)"
    assert lines["complete"].strip().startswith("11 / 12 tiles (91.7%)")
    assert "interp=lan5" in lines["parameters"]
    assert inputs["data.zarr"] in lines["data"]
    assert lines["pixmap"].split()[:6] == ["40", "x", "50", "x", "2", "float64"]
    assert lines["pixmap"].strip().endswith("pixmap.npy")
    status, out, _ = run_cli(["info", inputs["out"], "--json"], capsys)
    record = json.loads(out)
    assert status == 0
    assert (record["tiles"], record["tiles_done"], record["complete"]) == (12, 11, False)
    assert record["params"]["interp"] == "lan5"


# --------------------------------------------------------------------------- usage errors


def _usage_cases(p):
    """``(argv, words the message must contain)``; ``p`` maps names to paths made below."""
    blot = ["blot", p["data.zarr"], p["pixmap.npy"]]
    return {
        "unknown interp": ([*blot, p["new"], "--interp", "cubic"], "unknown interp 'cubic'"),
        "missing data": (["blot", p["nothing.zarr"], p["pixmap.npy"], p["new"]], "nothing.zarr"),
        "missing pixmap": (["blot", p["data.zarr"], p["nothing.npy"], p["new"]], "nothing.npy"),
        "existing output": ([*blot, p["existing"]], "--overwrite"),
        "chunks zero": ([*blot, p["new"], "--chunks", "0"], "--chunks"),
        "chunks words": ([*blot, p["new"], "--chunks", "big"], "--chunks"),
        "chunks three": ([*blot, p["new"], "--chunks", "1,2,3"], "--chunks"),
        "fillval": ([*blot, p["new"], "--fillval", "zero"], "--fillval"),
        "iscale inf": ([*blot, p["new"], "--iscale", "inf"], "iscale must be finite"),
        "sinscl negative": ([*blot, p["new"], "--sinscl", "-1"], "sinscl must be positive"),
        "workers zero": ([*blot, p["new"], "--workers", "0"], "--workers"),
        "bad precision": ([*blot, p["new"], "--precision", "low"], "--precision"),
        "resume and overwrite": ([*blot, p["existing"], "--resume", "--overwrite"], "--resume"),
        "overwrite a foreign store": ([*blot, p["existing"], "--overwrite"],
                                      "not a tileblot output"),
        "resume a foreign store": ([*blot, p["existing"], "--resume"], "not a tileblot output"),
        "scheduler and workers": ([*blot, p["new"], "--scheduler", "tcp://127.0.0.1:1",
                                   "--workers", "2"], "--scheduler"),
        "scheduler empty": ([*blot, p["new"], "--scheduler", ""], "--scheduler is empty"),
        "scheduler port not a number": ([*blot, p["new"], "--scheduler", "127.0.0.1:8786x"],
                                        "the port in '127.0.0.1:8786x' is not a number"),
        "scheduler port too large": ([*blot, p["new"], "--scheduler", "tcp://127.0.0.1:99999"],
                                     "port 99999 is not a TCP port"),
        "pixmap not a .npy": (["blot", p["data.zarr"], p["garbage.npy"], p["new"]],
                              "pixmap: '" + p["garbage.npy"] + "' is not a .npy file (it does "
                              "not start as numpy writes one)"),
        "data not a FITS file": (["blot", p["garbage.fits"], p["pixmap.npy"], p["new"]],
                                 "data: '" + p["garbage.fits"] + "' is not a FITS file"),
        "output under a file": ([*blot, p["existing"] + "/keep.txt/o.zarr"],
                                "keep.txt' is a file, not a directory"),
        "scheduler over http": ([*blot, p["new"], "--scheduler", "http://127.0.0.1:8787"],
                                "address is tcp://HOST:PORT (or tls://, ws://, wss://, ucx://), "
                                "not http://"),
        "pixmap and wcs-from": ([*blot, p["new"], "--wcs-from", p["exposure.fits"]],
                                "not both"),
        "neither pixmap nor wcs-from": (["blot", p["data.zarr"], p["new"]], "missing PIXMAP"),
        "too many paths": ([*blot, p["new"], p["new"]], "too many paths"),
        "fits without wcs": (["blot", p["data.zarr"], p["new"], "--wcs-from", p["plain.fits"]],
                             "has no WCS"),
        "zarr mosaic without wcs": (["blot", p["data.zarr"], p["new"], "--wcs-from",
                                     p["exposure.fits"]], "attribute 'wcs'"),
        "wcs-from not fits": (["blot", p["data.zarr"], p["new"], "--wcs-from", p["pixmap.npy"]],
                              "not a FITS file"),
        "missing fits extension": (["blot", p["data.zarr"], p["new"], "--wcs-from",
                                    p["exposure.fits"] + "[SCI]"], "no extension 'SCI'"),
        "pixmap shape": (["blot", p["data.zarr"], p["data.zarr"], p["new"]], "(ny, nx, 2)"),
        "unknown option": ([*blot, p["new"], "--fast"], "--fast"),
        "unknown command": (["paint"], "paint"),
        "no command": ([], "COMMAND"),
        "info of nothing": (["info", p["nothing.zarr"]], "no such output store"),
        "info of a non-output": (["info", p["data.zarr"]], "not a tileblot output"),
        # An unset shell variable: OUT '' was "already exists", DATA '' the current folder.
        "empty out": ([*blot, ""], "OUT is empty"),
        "empty data": (["blot", "", p["pixmap.npy"], p["new"]], "DATA is empty"),
        "empty info store": (["info", " "], "OUT is empty"),
        "empty export file": (["export", p["data.zarr"], ""], "FILE is empty"),
        "empty wcs-from": (["blot", p["data.zarr"], p["new"], "--wcs-from", ""],
                           "--wcs-from is empty"),
    }


_CASES = list(_usage_cases({k: k for k in ("data.zarr", "pixmap.npy", "new", "nothing.zarr",
                                           "nothing.npy", "existing", "exposure.fits",
                                           "plain.fits", "garbage.npy", "garbage.fits")}))


@pytest.mark.parametrize("case", _CASES)
def test_usage_errors_exit_2_with_one_line(case, inputs, capsys):
    tmp = inputs["dir"]
    (tmp / "existing").mkdir()
    (tmp / "existing" / "keep.txt").write_text("not a tileblot output")
    _write_fits(tmp / "exposure.fits", np.zeros(OUT_SHAPE, np.float32), _wcs_pair()[1])
    _write_fits(tmp / "plain.fits", np.zeros(OUT_SHAPE, np.float32), None)
    (tmp / "garbage.npy").write_text("not an array")
    (tmp / "garbage.fits").write_text("not a FITS file")
    paths = {k: str(tmp / k) for k in ("data.zarr", "pixmap.npy", "new", "nothing.zarr",
                                        "nothing.npy", "existing", "exposure.fits",
                                        "plain.fits", "garbage.npy", "garbage.fits")}
    argv, words = _usage_cases(paths)[case]
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert out == ""
    assert err.startswith("tileblot: error: ") and err.count("\n") == 1, err
    assert words in err
    assert "Traceback" not in err
    assert not (tmp / "new").exists()  # nothing written, no cluster started


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "examples:" in capsys.readouterr().out
    assert main(["blot", "--help"]) == 0
    assert "--wcs-from" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tileblot {tileblot.__version__}"


def test_unexpected_error_is_one_line_unless_debug(inputs, monkeypatch, capsys):
    def broken(store):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("tileblot._io._store.describe", broken)
    (inputs["dir"] / "out.zarr").mkdir()
    status, _, err = run_cli(["info", inputs["out"]], capsys)
    assert status == 1
    assert err == ("tileblot: error: RuntimeError: disk on fire second line "
                   "(rerun with --debug for the traceback)\n")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["info", inputs["out"], "--debug"])


@pytest.mark.parametrize(("error", "words"), [
    (ModuleNotFoundError("No module named 'astropy'", name="astropy"),
     "No module named 'astropy'; install it with: pip install 'tileblot[all]'"),
    (ImportError("astropy is needed; install it with: pip install 'tileblot[astropy]'"),
     "astropy is needed; install it with: pip install 'tileblot[astropy]'"),
    (ImportError("cannot import name 'gone' from 'tileblot._io'", name="tileblot._io"),
     "ImportError: cannot import name 'gone' from 'tileblot._io' (rerun with --debug for the "
     "traceback)"),
])
def test_an_import_error_gets_an_install_hint_only_for_an_extra(error, words, inputs,
                                                                 monkeypatch, capsys):
    def failing(store):
        raise error

    monkeypatch.setattr("tileblot._io._store.describe", failing)
    (inputs["dir"] / "out.zarr").mkdir()
    status, _, err = run_cli(["info", inputs["out"]], capsys)
    assert (status, err) == (1, f"tileblot: error: {words}\n"), err


WARNS = """
import sys, warnings
import tileblot._io._store
from tileblot._cli import main

def warns(store):
    warnings.warn("the exposure's WCS is in FK5\\n and the mosaic's in ICRS", UserWarning)
    raise ValueError("stop here")

tileblot._io._store.describe = warns
sys.exit(main(["info", sys.argv[1]]))
"""


def test_a_warning_is_one_line_like_an_error(tmp_path):
    # In a process of its own: pytest records warnings instead of printing them.
    (tmp_path / "out.zarr").mkdir()
    done = subprocess.run([sys.executable, "-c", WARNS, str(tmp_path / "out.zarr")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ,
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert (done.returncode, done.stderr) == (
        2, "tileblot: warning: the exposure's WCS is in FK5 and the mosaic's in ICRS\n"
           "tileblot: error: stop here\n"), done.stderr


def test_keyboard_interrupt_exits_130(inputs, monkeypatch, capsys):
    def interrupted(store):
        raise KeyboardInterrupt

    monkeypatch.setattr("tileblot._io._store.describe", interrupted)
    (inputs["dir"] / "out.zarr").mkdir()
    status, _, err = run_cli(["info", inputs["out"]], capsys)
    assert (status, err) == (130, "tileblot: interrupted\n")


def test_an_interrupted_job_leaves_logging_as_it_found_it(inputs, monkeypatch, capsys):
    # The interrupt silences logging while the cluster closes; a notebook or a test that
    # called main() lost every later log record of its process.
    import logging

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("tileblot._api._blot_to_zarr.write_plans", interrupted)
    status, _, err = run_cli(["blot", inputs["data.zarr"], inputs["pixmap.npy"], inputs["out"],
                              "--workers", "1", "--no-progress"], capsys)
    assert status == 130 and err.endswith("tileblot: interrupted (finish with --resume)\n")
    assert logging.root.manager.disable == logging.NOTSET


# --------------------------------------------------------------------------- installed script


def _script():
    script = shutil.which("tileblot", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the tileblot console script is not installed")
    return script


def test_console_script(tmp_path):
    script = _script()
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "tileblot demo" in shown.stdout
    failed = subprocess.run([script, "blot", str(tmp_path / "no.zarr"), str(tmp_path / "p.npy"),
                             str(tmp_path / "out.zarr")], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 2
    assert failed.stderr.startswith("tileblot: error: ") and failed.stderr.count("\n") == 1
    assert "no.zarr" in failed.stderr and failed.stdout == ""


# --------------------------------------------------------------------------- demo


def _pickled(*objects):
    return [pickle.loads(pickle.dumps(obj)) for obj in objects]


def test_demo_small_and_rerun(tmp_path, scheduler, capsys):
    argv = ["demo", tmp_path / "demo", "--size", "256", "--exposures", "2", "--chunks", "64",
            "--scheduler", scheduler, "--no-progress"]
    status, out, err = run_cli(argv, capsys)
    assert (status, err) == (0, "")
    assert "re-run" not in out
    scene = _demo.make_scene(256, 2)
    mosaic = zarr.open_array(str(tmp_path / "demo" / "mosaic.zarr"), mode="r")
    np.testing.assert_array_equal(mosaic[...], scene.mosaic)
    assert mosaic.attrs["wcs"] == _demo.wcs_to_attrs(scene.wcs)
    for k, exposure in enumerate(scene.exposures):
        # The WCSs as worker processes see them: astropy pickles a WCS through its FITS header,
        # whose 14 significant digits move the pixmap by ~1e-9 pixels.
        pixmap = pixmap_from_wcs(*_pickled(exposure.wcs, scene.wcs), exposure.shape,
                                 stepsize=_demo.STEPSIZE).compute()
        expected = tileblot.blot_image(scene.mosaic, pixmap, fillval=np.nan, precision="high")
        np.testing.assert_array_equal(_image(tmp_path / "demo" / f"exposure_{k + 1}.zarr"),
                                      expected)
    assert (tmp_path / "demo" / "quicklook.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tiles = sum(-(-e.shape[0] // 64) * -(-e.shape[1] // 64) for e in scene.exposures)
    assert f"blotted {tiles} tiles" in out and "Mpix/s" in out and "MiB per worker" in out

    # In a folder moved since (its outputs record the mosaic where it was), with its
    # progress, into a log as blot's: plain lines (distributed's bar wrote hundreds of frames
    # joined by carriage returns).
    (tmp_path / "demo").rename(tmp_path / "moved")
    status, out, err = run_cli(["demo", tmp_path / "moved",
                                *[arg for arg in argv[2:] if arg != "--no-progress"]], capsys)
    assert (status, err) == (0, "")
    assert "re-run" in out and "overwritten" in out
    assert "\r" not in out and f"progress: {tiles} of {tiles} tiles (100%)" in out, out

    # A quicklook.png that the demo did not write, or a link, is never written over.
    other = tmp_path / "other"
    for make in (lambda p: p.write_bytes(b"my own picture"),
                 lambda p: p.symlink_to(tmp_path / "elsewhere.png")):
        other.mkdir()
        make(other / "quicklook.png")
        status, _, err = run_cli(["demo", other, *argv[2:]], capsys)
        assert status == 2 and "quicklook.png" in err and "refusing" in err, err
        assert sorted(p.name for p in other.iterdir()) == ["quicklook.png"]  # no work done
        shutil.rmtree(other)
    assert not (tmp_path / "elsewhere.png").exists()



def test_demo_refuses_a_directory_it_cannot_use_before_any_cluster(tmp_path, capsys,
                                                                    monkeypatch):
    # A file was found by mkdir once a cluster ran (exit 1); a zarr array got the demo's
    # stores written inside it; a foreign store under an output's name was refused late.
    (tmp_path / "afile").write_text("x")
    zarr.create_array(str(tmp_path / "array.zarr"), data=np.ones((4, 4), np.float32))
    (tmp_path / "taken" / "exposure_1.zarr").mkdir(parents=True)
    (tmp_path / "taken" / "exposure_1.zarr" / "notes.txt").write_text("mine")
    # A tileblot output of the user's own, under a name the demo uses, was replaced.
    mine = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    yy, xx = np.mgrid[0:20, 0:20].astype(float)
    tileblot.blot_to_zarr(mine, np.dstack([xx + 3.5, yy]),
                          str(tmp_path / "own" / "exposure_1.zarr"), interp="linear",
                          chunks=10, progress=False)
    # ~ as blot_to_zarr reads it (the checks took it for a folder named "~").
    monkeypatch.setenv("HOME", str(tmp_path))
    cases = {"afile": "is a file, not a folder", "array.zarr": "is a zarr store",
             "~/own": "exposure_1.zarr' is not an output of the demo",
             "taken": "exposure_1.zarr' exists and is not a tileblot output",
             "own": "exposure_1.zarr' is not an output of the demo (it blotted another mosaic)"}
    for name, words in cases.items():
        where = name if name.startswith("~") else tmp_path / name
        status, out, err = run_cli(["demo", where, "--size", "256", "--exposures", "1",
                                    "--no-progress"], capsys)
        assert status == 2 and words in err and err.count("\n") == 1, err
        assert "cluster" not in out + err
    assert sorted(p.name for p in (tmp_path / "array.zarr").iterdir()) == ["c", "zarr.json"]
    np.testing.assert_array_equal(_image(tmp_path / "own" / "exposure_1.zarr")[:, 0],
                                  mine[:20, 3] + 0.5)


def test_the_end_of_options_is_not_a_path(inputs, capsys):
    # "--" before a path that starts with "-" was counted as a fourth path.
    (inputs["dir"] / "-pixmap.npy").write_bytes(Path(inputs["pixmap.npy"]).read_bytes())
    args, extra = build_parser().parse_known_args(
        ["blot", "--interp", "linear", inputs["data.zarr"], "--", "-pixmap.npy", inputs["out"]])
    take_extra(args, extra)
    assert args.paths == [inputs["data.zarr"], "-pixmap.npy", inputs["out"]]
    # After it, an option is a path too: said so.
    status, _, err = run_cli(["blot", inputs["data.zarr"], "--", "-pixmap.npy", inputs["out"],
                              "--no-progress"], capsys)
    assert status == 2 and "after '--' every argument is a path ('--no-progress' too)" in err


@pytest.mark.parametrize("value", ["-inf", "-1e-3", "-1E5", "-2", "-0.5", "nan", "3"])
def test_number_options_take_negative_values(value):
    argv = ["blot", "d.zarr", "p.npy", "o.zarr", "--fillval", value, "--iscale", value,
            "--sinscl", value, "--interp", "linear"]
    args, extra = build_parser().parse_known_args(join_negative_numbers(argv))
    assert extra == [] and args.interp == "linear"
    for name in ("fillval", "iscale", "sinscl"):
        np.testing.assert_equal(getattr(args, name), float(value))


def test_abbreviated_number_options_take_negative_values():
    argv = ["blot", "d.zarr", "p.npy", "o.zarr", "--fill", "-inf", "--isc", "-1e-3"]
    args, extra = build_parser().parse_known_args(join_negative_numbers(argv))
    assert extra == [] and (args.fillval, args.iscale) == (-np.inf, -1e-3)


def test_every_option_taking_a_number_is_joined_with_a_negative_value():
    blot = build_parser()._subparsers._group_actions[0].choices["blot"]
    numeric = {option for action in blot._actions if action.type is _number
               for option in action.option_strings}
    assert numeric == set(NUMBER_OPTIONS)


def test_storage_option_values_are_json_except_credentials_and_names():
    """An access key of digits read as JSON became a number: botocore's bare TypeError."""
    argv = ["info", "s3://b/o.zarr"] + [
        arg for option in ("key=12345678", 'secret="007"', "endpoint_url=http://h:9000",
                           "profile=2026", "anon=true", "default_block_size=5242880",
                           'config_kwargs={"connect_timeout": 5}', "region=eu",
                           'token={"type": "service_account"}')
        for arg in ("--storage-option", option)]
    args, _ = build_parser().parse_known_args(argv)
    assert dict(args.storage_options) == {
        "key": "12345678", "secret": "007", "endpoint_url": "http://h:9000", "profile": "2026",
        "anon": True, "default_block_size": 5242880, "config_kwargs": {"connect_timeout": 5},
        "region": "eu", "token": {"type": "service_account"}}  # gcsfs takes a dict there


def test_a_stop_signal_that_library_code_lost_is_still_a_stop(monkeypatch, capsys):
    """A Ctrl-C inside numba's compile lost its KeyboardInterrupt (an llvmlite callback), and
    the error that came out instead was reported: exit 1, "RuntimeError: no compiled object
    yet", where the command had been stopped."""
    from tileblot._cli import _main

    def losing_the_interrupt(args, echo):
        with contextlib.suppress(KeyboardInterrupt):  # lost, as in the compile
            signal.raise_signal(signal.SIGINT)
        raise RuntimeError("no compiled object yet")

    monkeypatch.setitem(_main.COMMANDS, "info", losing_the_interrupt)
    assert main(["info", "x.zarr"]) == 130
    assert capsys.readouterr().err == "tileblot: interrupted\n"
