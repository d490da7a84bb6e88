"""The benchmark scripts start: their imports of tileblot's modules follow the package.

A script that imported a name from the module it used to live in failed at its first
line (bench_store.py, once TileWriter and check_output had moved), unseen by the suite:
the scripts are run by hand. Each is started here as the docs run it, for its help.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path.name for path in (REPO / "benchmarks").glob("*.py")
                 if not path.name.startswith("_"))


def test_every_script_is_found():
    assert "bench_store.py" in SCRIPTS and "plot_performance.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_starts(script):
    done = subprocess.run([sys.executable, f"benchmarks/{script}", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: "), done.stdout
