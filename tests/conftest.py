"""Shared fixtures: a seeded random generator, never global seeding; the built docs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def rng(request):
    """A ``numpy.random.Generator`` seeded from the test's name, so that every test draws
    its own reproducible stream and adding a test never changes another's data."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.name))
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory):
    """The Sphinx site built once (``-W``): ``(completed process, root)``.

    The HTML is under ``root / "html"``; myst-nb executes the notebook during the
    build and leaves the executed copy under ``root / "jupyter_execute"``, which
    the notebook test reads: the notebook runs once per test session, not twice.
    """
    root = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-b", "html",
        "-d", str(root / "doctrees"),
        str(DOCS), str(root / "html"),
    ]
    # The notebook starts a local cluster: minutes on a loaded machine, not seconds.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    return result, root
