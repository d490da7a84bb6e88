"""``tileblot.warmup`` and ``tileblot warmup``: compile once, load everywhere after."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tileblot
from tileblot._cli import main

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
import tileblot
from tileblot._api._warmup import is_cached
before = is_cached("nearest", "drizzle")
records = tileblot.warmup("nearest", "drizzle")
again = tileblot.warmup(["nearest"], ["drizzle"])
print(json.dumps({"before": before, "after": is_cached("nearest", "drizzle"),
                  "first": records, "again": again}))
"""


def _run_child(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_warmup_compiles_into_the_cache_then_workers_load_it(tmp_path):
    """A fresh process with an empty NUMBA_CACHE_DIR compiles; the next one only loads."""
    first = _run_child(tmp_path)
    assert first["before"] is False and first["after"] is True
    [record] = first["first"]
    assert (record["interp"], record["precision"], record["action"]) == (
        "nearest", "drizzle", "compiled")
    assert first["again"][0]["action"] == "ready"
    second = _run_child(tmp_path)
    assert second["before"] is True
    assert second["first"][0]["action"] == "loaded"


def test_warmup_prepares_what_blot_image_then_uses(rng):
    [record] = tileblot.warmup("bilinear", "high", dtype=np.float64)
    assert record["interp"] == "linear" and record["action"] in ("compiled", "loaded", "ready")
    entry = tileblot._kernels._registry.resolve("linear").entry_point("high")
    signatures = set(entry.signatures)
    data = rng.normal(size=(20, 20))  # float64 data: the float64 window variant
    tileblot.blot_image(data, np.dstack([rng.uniform(0, 20, (5, 5))] * 2), interp="linear",
                        precision="high")
    assert set(entry.signatures) == signatures  # nothing new compiled by the call


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"interp": "cubic"}, ValueError, "unknown interp 'cubic'"),
     ({"interp": 3}, TypeError, "interp must be a string"),
     ({"precision": "double"}, ValueError, "precision must be"),
     ({"interp": "linear", "pixmap_dtype": np.int32}, TypeError, "pixmap_dtype"),
     ({"interp": "linear", "dtype": np.complex64}, TypeError, "dtype must be real"),
     ({"interp": []}, ValueError, "interp names nothing to warm up"),
     ({"interp": "linear", "precision": ()}, ValueError, "precision names nothing")],
)
def test_warmup_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        tileblot.warmup(**kwargs)


def test_cli_warmup_prints_one_line_per_kernel(capsys):
    assert main(["warmup", "--interp", "nearest", "lan3", "--precision", "drizzle"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["nearest", "drizzle"], ["lan3", "drizzle"]]
    assert all(line.split()[2] in ("compiled", "loaded", "ready") for line in lines)


def test_cli_warmup_bad_name_is_a_usage_error(capsys):
    assert main(["warmup", "--interp", "cubic"]) == 2
    assert "unknown interp 'cubic'" in capsys.readouterr().err


def test_import_loads_neither_dask_nor_zarr():
    """``import tileblot`` and an eager ``blot_image`` need neither."""
    code = ("import sys, numpy as np, tileblot\n"
            "from tileblot import blot_image\n"
            "blot_image(np.ones((8, 8), np.float32), np.full((2, 2, 2), 3.5), interp='nearest')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'zarr')))\n")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.stdout.split()[-1] == "[]"


def test_warmup_takes_each_interpolator_once():
    records = tileblot.warmup(["lan3", "lanczos3", "lan3"], "high")
    assert [r["interp"] for r in records] == ["lan3"]


def _without_write_override(tmp_path):
    """The command prefix that runs a process unable to write where permissions say no: as
    itself for a user, without the capabilities that bypass them for root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv: permissions cannot be made to apply")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@pytest.mark.parametrize("nowhere", [True, False])
def test_warmup_says_where_numba_cannot_keep_the_kernels(tmp_path, nowhere):
    """A read-only NUMBA_CACHE_DIR: numba kept the kernels beside the sources, silently, and
    every worker pointed at that folder compiled them again. With nowhere to write at all
    (a read-only install and home too, as in some containers), cache=True made numba refuse
    to define the kernels: every command failed, `tileblot --version` included."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "tileblot", source / "tileblot",
                    ignore=shutil.ignore_patterns("__pycache__"))
    asked, home = tmp_path / "cache", tmp_path / "home"
    asked.mkdir()
    home.mkdir()
    locked = [asked] + ([home, source / "tileblot" / "_kernels"] if nowhere else [])
    for folder in locked:
        folder.chmod(0o555)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(asked), HOME=str(home),
               PYTHONPATH=str(source), XDG_CACHE_HOME=str(home / ".cache"))
    try:
        prefix = _without_write_override(tmp_path)
        # Run from tmp_path: "-m" puts the working directory first on the path.
        version = subprocess.run([*prefix, sys.executable, "-m", "tileblot", "--version"],
                                 env=env, capture_output=True, text=True, timeout=120,
                                 cwd=tmp_path)
        warm = subprocess.run([*prefix, sys.executable, "-m", "tileblot", "warmup", "--interp",
                               "nearest", "--precision", "drizzle"],
                              env=env, capture_output=True, text=True, timeout=300,
                              cwd=tmp_path)
    finally:
        for folder in locked:
            folder.chmod(0o755)
    assert version.returncode == 0, version.stderr
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.split()[:3] == ["nearest", "drizzle", "compiled"], warm.stdout
    said = ("numba can write its cache nowhere" if nowhere else
            f"NUMBA_CACHE_DIR '{asked}' cannot be written: numba keeps the kernels in ")
    assert warm.stderr.startswith(f"tileblot: warning: {said}"), warm.stderr
    assert warm.stderr.count("\n") == 1


@pytest.mark.parametrize("damaged", ["nearest*.nbi", "nearest*.nbc", "_loop*_bbox*.nbi"])
def test_a_damaged_cache_is_deleted_and_compiled_again(tmp_path, damaged):
    """numba reads its cache without a check: a truncated file failed every later run (in
    every worker pointed at that cache) with a bare "UnpicklingError: pickle data was
    truncated"."""
    cache = tmp_path / "cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    warmup = [sys.executable, "-m", "tileblot", "warmup", "--interp", "nearest",
              "--precision", "drizzle"]
    subprocess.run(warmup, env=env, check=True, capture_output=True, timeout=300, cwd=tmp_path)
    files = list(cache.rglob(damaged))
    assert files
    for file in files:
        file.write_bytes(file.read_bytes()[:20])
    again = subprocess.run(warmup, env=env, capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split()[:3] == ["nearest", "drizzle", "compiled"], again.stdout
    assert re.fullmatch(r"tileblot: warning: numba's cache of the kernels in "
                        rf"'{cache}/.*' was damaged \((UnpicklingError|EOFError): .*\): "
                        r"deleted it; compiling the kernels again\n", again.stderr), again.stderr
    third = subprocess.run(warmup, env=env, capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)
    assert third.stdout.split()[:3] == ["nearest", "drizzle", "loaded"], third.stdout
    assert third.stderr == ""


def test_warmup_takes_any_collection_of_names():
    """A set of names was an unhashable-type TypeError (a list or a tuple worked)."""
    records = tileblot.warmup({"nearest"}, frozenset({"drizzle"}))
    assert [(r["interp"], r["precision"]) for r in records] == [("nearest", "drizzle")]
