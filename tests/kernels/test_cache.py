"""The kernels' disk cache is dropped when any kernel source changes."""

import shutil

from tileblot._kernels import _cache


def test_cache_is_dropped_when_a_shared_module_changes(tmp_path):
    kernels = tmp_path / "kernels"
    shutil.copytree(_cache._HERE, kernels, ignore=shutil.ignore_patterns("__pycache__"))
    cached = kernels / "__pycache__" / "nearest.blot_nearest-20.py311.nbi"
    assert _cache.drop_stale_cache(kernels) is False  # first stamp: nothing to drop
    cached.write_bytes(b"compiled")
    assert _cache.drop_stale_cache(kernels) is False  # unchanged sources keep the cache
    assert cached.exists()
    loop = kernels / "_loop.py"
    loop.write_text(loop.read_text() + "\n# an edit\n")
    assert _cache.drop_stale_cache(kernels) is True
    assert not cached.exists()
    assert _cache.drop_stale_cache(kernels) is False


def test_digest_covers_every_kernel_module(tmp_path):
    before = _cache.sources_digest()
    copy = tmp_path / "k"
    shutil.copytree(_cache._HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _cache.sources_digest(copy) == before
    (copy / "sinc.py").write_text((copy / "sinc.py").read_text().replace("7", "8", 1))
    assert _cache.sources_digest(copy) != before
