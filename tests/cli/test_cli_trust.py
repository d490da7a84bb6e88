"""The command line and the store's guarantees: ``info`` cross-checks and ``--verify``, refusals."""

import json
import re
import subprocess
import sys

import numpy as np
import zarr

import tileblot
from tests.helpers import affine_pixmap
from tileblot._cli import main
from tileblot._io import _lock
from tileblot._io._store import IMAGE, take_output


def _info(argv, capsys):
    status = main(["info", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def test_info_reports_lost_and_corrupt_chunks(rng, tmp_path, capsys):
    data = rng.normal(size=(50, 50)).astype(np.float32)
    out = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, affine_pixmap((40, 40), shift=(3.0, 4.0)), out,
                          interp="linear", chunks=20, progress=False)
    status, text, _ = _info([out, "--verify"], capsys)
    assert status == 0 and "every chunk decodes" in text
    (out / IMAGE / "c" / "0" / "0").unlink()
    chunk = out / IMAGE / "c" / "1" / "1"
    chunk.write_bytes(chunk.read_bytes()[:8])
    status, text, err = _info([out], capsys)
    lines = dict(line.split(":", 1) for line in text.splitlines())
    assert (status, err) == (0, "")
    assert lines["complete"].strip().startswith("3 / 4 tiles")
    assert lines["missing"].strip().startswith("1 recorded tiles have no image chunk")
    status, text, _ = _info([out, "--verify"], capsys)
    lines = dict(line.split(":", 1) for line in text.splitlines())
    assert status == 1
    assert lines["complete"].strip().startswith("2 / 4 tiles")
    assert lines["verified"].strip().startswith("1 corrupt tiles")
    status, text, _ = _info([out, "--verify", "--json"], capsys)
    record = json.loads(text)
    assert status == 1
    assert record["tiles_missing_chunk"] == [[0, 0]] and record["tiles_corrupt"] == [[1, 1]]


def test_info_tells_a_stale_lock_from_a_live_one(rng, tmp_path, capsys):
    data = rng.normal(size=(30, 30)).astype(np.float32)
    out = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, affine_pixmap((20, 20), shift=(3.0, 4.0)), out,
                          interp="linear", chunks=10, progress=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for proc, line in [(dead, r"lock:\s+left by job"), (live, r"in use by:\s+job")]:
            take_output(out, {**_lock.new_owner(), "pid": proc.pid}, break_lock=True)
            status, text, _ = _info([out], capsys)
            assert status == 0 and re.search(rf"{line} \w+ \(pid {proc.pid} ", text), text
            assert ("which is gone: the next job takes it over" in text) is (proc is dead)
    finally:
        live.kill()
        live.wait()


def _blot_inputs(rng, tmp_path):
    data = tmp_path / "data.npy"
    np.save(data, rng.normal(size=(50, 50)).astype(np.float32))
    pixmap = tmp_path / "pixmap.npy"
    np.save(pixmap, affine_pixmap((40, 40), shift=(3.0, 4.0)))
    return [str(data), str(pixmap)]


def test_a_damaged_store_is_named_and_overwritten(rng, tmp_path, capsys, scheduler):
    inputs, out = _blot_inputs(rng, tmp_path), tmp_path / "out.zarr"
    blot = ["blot", *inputs, out, "--chunks", "20", "--scheduler", scheduler, "--no-progress"]
    assert main([str(a) for a in blot]) == 0
    expected = tileblot.open_output(out).image[...]
    (out / IMAGE / "zarr.json").unlink()  # as an overwrite killed while deleting leaves it
    capsys.readouterr()
    for argv in (["info", out], [*blot, "--resume"]):
        assert main([str(a) for a in argv]) == 2
        _, err = capsys.readouterr()
        assert "is damaged: its image array is missing" in err and "--overwrite" in err, err
    assert main([str(a) for a in [*blot, "--overwrite"]]) == 0
    np.testing.assert_array_equal(tileblot.open_output(out).image[...], expected)


def test_resume_with_verify_counts_the_tiles_it_redoes(rng, tmp_path, capsys, scheduler):
    inputs, out = _blot_inputs(rng, tmp_path), tmp_path / "out.zarr"
    blot = ["blot", *inputs, out, "--chunks", "20", "--scheduler", scheduler, "--no-progress"]
    assert main([str(a) for a in blot]) == 0
    (out / IMAGE / "c" / "0" / "0").unlink()
    chunk = out / IMAGE / "c" / "1" / "1"
    chunk.write_bytes(chunk.read_bytes()[:8])
    capsys.readouterr()
    assert main([str(a) for a in [*blot, "--resume", "--verify"]]) == 0
    text, _ = capsys.readouterr()
    assert "2 of 4 tiles" in text and "2 already done" in text, text


def test_resume_of_a_store_another_job_made_meanwhile_resumes_it(rng, tmp_path, capsys,
                                                                   scheduler, monkeypatch):
    """Two '--resume' jobs started at once on a store that did not exist: the one that
    finds it made by the other resumes it, rather than refusing it as 'already exists'."""
    inputs, out = _blot_inputs(rng, tmp_path), tmp_path / "out.zarr"
    blot = ["blot", *inputs, out, "--chunks", "20", "--scheduler", scheduler, "--no-progress",
            "--resume"]

    def the_other_job_first(*args):  # runs after this job's checks, before its cluster work
        tileblot.blot_to_zarr(*inputs, out, chunks=20, progress=False)

    monkeypatch.setattr("tileblot._cli._commands.compiling_notice", the_other_job_first)
    assert main([str(a) for a in blot]) == 0
    text, err = capsys.readouterr()
    assert "does not exist yet: starting the job" in text and err == ""
    assert "0 of 4 tiles" in text and "4 already done" in text, text


def test_blot_refuses_before_any_cluster_starts(rng, tmp_path, capsys):
    data = tmp_path / "data.npy"
    np.save(data, rng.normal(size=(30, 30)).astype(np.float32))
    pixmap = tmp_path / "pixmap.npy"
    np.save(pixmap, affine_pixmap((20, 20), shift=(2.0, 2.0)))
    zarr.create_array(str(tmp_path / "mosaic.zarr"), data=np.ones((30, 30), np.float32))
    cases = {
        "memory://tileblot-cli-out.zarr": "in memory",
        str(tmp_path / "new.zarr"): "--verify",
        # Checked by the store layer once the cluster had started.
        str(tmp_path / "mosaic.zarr" / "inside.zarr"): "lies inside the data",
    }
    for out, words in cases.items():
        extra = ["--verify"] if words == "--verify" else []
        source = str(tmp_path / "mosaic.zarr") if "inside" in out else str(data)
        status = main(["blot", source, str(pixmap), out, "--no-progress", *extra])
        captured = capsys.readouterr()
        assert status == 2 and words in captured.err, captured.err
        assert "cluster" not in captured.out + captured.err
    assert not (tmp_path / "new.zarr").exists()
    assert not (tmp_path / "mosaic.zarr" / "inside.zarr").exists()


def test_a_failed_resume_says_one_line_and_nothing_after_it(rng, tmp_path):
    """One damaged completion record among many: the refusal was followed by hundreds of
    asyncio lines ("Task was destroyed but it is pending!"), zarr's other reads of the
    records destroyed with its event loop as the process ended."""
    data = rng.normal(size=(300, 300)).astype(np.float32)
    zarr.create_array(str(tmp_path / "m.zarr"), data=data, chunks=(64, 64))
    np.save(tmp_path / "p.npy", affine_pixmap((256, 256), shift=(10.0, 10.0)))
    out = tmp_path / "o.zarr"
    blot = [sys.executable, "-m", "tileblot", "blot", str(tmp_path / "m.zarr"),
            str(tmp_path / "p.npy"), str(out), "--chunks", "8", "--no-progress",
            "--workers", "1"]
    subprocess.run(blot, check=True, capture_output=True, timeout=300)
    (out / "tiles_done" / "c" / "9" / "9").write_bytes(b"abc")
    (out / IMAGE / "c" / "7" / "7").unlink()  # work for the resume to do
    run = subprocess.run([*blot, "--resume"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert re.fullmatch(r"tileblot: error: [^\n]*completion records[^\n]*--verify[^\n]*\n",
                        run.stderr), run.stderr
