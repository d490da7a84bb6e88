"""The kernels' disk cache is dropped when any kernel source changes, wherever numba keeps it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from tileblot._kernels import _cache
from tileblot._kernels._registry import resolve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kernels(tmp_path):
    """A copy of the kernel sources, without any cache."""
    copy = tmp_path / "kernels"
    shutil.copytree(_cache._HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def no_cache_dir(monkeypatch):
    """As if NUMBA_CACHE_DIR were unset (numba reads its config at each lookup)."""
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")


def test_cache_is_dropped_when_a_shared_module_changes(kernels):
    cache = _cache.numba_cache_dir(kernels)
    cached = cache / "nearest.blot_nearest_drizzle-20.py311.nbi"
    assert _cache.drop_stale_cache(kernels) is False  # first stamp: nothing to drop
    cached.write_bytes(b"compiled")
    assert _cache.drop_stale_cache(kernels) is False  # unchanged sources keep the cache
    assert cached.exists()
    loop = kernels / "_loop.py"
    loop.write_text(loop.read_text() + "\n# an edit\n")
    assert _cache.drop_stale_cache(kernels) is True
    assert not cached.exists()
    assert _cache.drop_stale_cache(kernels) is False


def test_digest_covers_every_kernel_module(kernels):
    before = _cache.sources_digest()
    assert _cache.sources_digest(kernels) == before
    (kernels / "sinc.py").write_text((kernels / "sinc.py").read_text().replace("7", "8", 1))
    assert _cache.sources_digest(kernels) != before


def test_cache_dir_is_numba_cache_dir_when_set(kernels, tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "shared"))
    cache = _cache.numba_cache_dir(kernels)
    assert cache.parent == tmp_path / "shared" and cache.name.startswith("kernels_")
    assert not (kernels / "__pycache__").exists()  # the in-tree cache is not used


def test_cache_dir_is_in_tree_when_writeable(kernels, no_cache_dir):
    assert _cache.numba_cache_dir(kernels) == kernels / "__pycache__"


def test_cache_dir_is_user_wide_when_the_tree_is_not_writeable(kernels, tmp_path, monkeypatch,
                                                               no_cache_dir):
    """A read-only install: numba falls back to its user-wide cache, and so does the guard.
    (A file named __pycache__ makes the tree unwritable for numba even as root.)"""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    (kernels / "__pycache__").write_text("not a directory")
    cache = _cache.numba_cache_dir(kernels)
    assert cache.is_relative_to(tmp_path / "home-cache" / "numba")
    stale = cache / "lanczos.blot_lan3_high-1.py311.nbi"
    stale.write_bytes(b"compiled")
    (kernels / "poly.py").write_text((kernels / "poly.py").read_text() + "\n# an edit\n")
    assert _cache.drop_stale_cache(kernels) is True
    assert not stale.exists()


def test_guard_and_entry_points_agree_on_the_directory():
    entry = resolve("nearest").entry_point("drizzle")
    assert Path(entry._cache.cache_path) == _cache.numba_cache_dir()


CHILD = """
import numpy as np
from tileblot._kernels import _cache
from tileblot._kernels._registry import resolve
out = np.empty((1, 2), np.float32)
resolve("nearest").kernel(np.ones((3, 3)), 0, 0, 3, 3, np.ones((1, 2, 2)), out, 0.0, 1.0,
                          resolve("nearest").state(), True)
print(_cache.numba_cache_dir())
"""


def test_stale_kernels_are_dropped_from_numba_cache_dir(tmp_path):
    """End to end with a real NUMBA_CACHE_DIR: a compiled kernel lands where the guard looks,
    and a stamp from other sources makes the next import drop it."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    run = [sys.executable, "-c", CHILD]
    cache = Path(subprocess.run(run, env=env, check=True, capture_output=True,
                                text=True).stdout.split()[-1])
    assert cache.parent == tmp_path
    compiled = _cache.cached_files(cache)
    assert any(path.name.startswith("nearest.blot_nearest_drizzle") for path in compiled)
    (cache / _cache._STAMP).write_text("digest of older sources")
    subprocess.run([sys.executable, "-c", "import tileblot._kernels"], env=env, check=True)
    assert _cache.cached_files(cache) == []
    assert (cache / _cache._STAMP).read_text() == _cache.sources_digest()
