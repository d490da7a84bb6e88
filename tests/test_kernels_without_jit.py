"""The kernel tests once more with numba's JIT off: the kernels' Python runs as Python.

That is what makes their bodies visible to coverage tools and to a debugger, and it
catches code that only numba accepts. The subset is the kernels against their naive
references and their contract (the rest would take many minutes interpreted).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_kernel_tests_pass_interpreted():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
         "tests/kernels/test_against_naive.py", "tests/kernels/test_contract.py",
         "tests/kernels/test_lanczos.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
