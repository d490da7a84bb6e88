"""Keep numba's on-disk cache of the kernels in step with their source.

numba's cache checks only the file that defines each cached function. The
entry points inline code from other modules (the pixel loop in ``_loop.py``),
so an edit there — a ``git pull`` into an editable install, say — would leave
every entry point running its old compiled code, silently. We stamp the cache
directory with a digest of all kernel sources and drop the cached code when
the digest changes.

The directory is the one numba itself uses for the kernels, found with
numba's own locators: ``NUMBA_CACHE_DIR`` when it is set, else the in-tree
``__pycache__`` when it is writeable, else numba's user-wide cache directory
(a read-only install). Each directory keeps its own stamp.

numba also reads its cache files without any check: a damaged one (a disk
full as it was written, a file truncated by a copy) failed every later call
of its kernel, in every process pointed at that cache. :func:`call` drops
the cache and compiles again instead.
"""

import hashlib
import os
import traceback
import warnings
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_STAMP = "tileblot-kernels.sha256"


def sources_digest(folder=_HERE):
    """SHA-256 of every kernel module's source, in name order."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def numba_cache_dir(folder=_HERE):
    """The directory numba caches functions defined in ``folder``'s modules in, or None.

    Asks numba's cache machinery (its locators, in its order of preference)
    about a stand-in function whose source file lies in ``folder``, so the
    answer follows ``NUMBA_CACHE_DIR`` and numba's fallbacks exactly. Like
    numba, it creates the directory if it can.
    """
    from numba.core.caching import CompileResultCacheImpl

    namespace = {}
    exec(compile("def probe():\n    pass\n", str(folder / "_loop.py"), "exec"), namespace)
    try:
        return Path(CompileResultCacheImpl(namespace["probe"]).locator.get_cache_path())
    except (RuntimeError, OSError):  # no locator can write anywhere: nothing is cached
        return None


def cached_files(cache):
    """numba's index and data files in the directory ``cache``."""
    return sorted(cache.glob("*.nb[ic]")) if cache is not None else []


def drop_stale_cache(folder=_HERE, cache=None):
    """Delete numba's cached kernels if the sources in ``folder`` changed since the stamp.

    ``cache`` defaults to :func:`numba_cache_dir` of ``folder``. Returns True
    if anything was deleted. Never raises for file-system reasons: an
    unwritable cache simply keeps (and numba re-validates) what it has.
    """
    if cache is None:
        cache = numba_cache_dir(folder)
        if cache is None:
            return False
    stamp = cache / _STAMP
    digest = sources_digest(folder)
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    dropped = False
    try:
        for path in cached_files(cache):
            path.unlink(missing_ok=True)
            dropped = True
        cache.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass
    return dropped


def from_numba_cache(exc):
    """Whether ``exc`` was raised reading numba's disk cache (its traceback passes there)."""
    caching = os.path.join("numba", "core", "caching.py")
    return any(frame.f_code.co_filename.endswith(caching)
               for frame, _ in traceback.walk_tb(exc.__traceback__))


def call(entry, *args):
    """``entry(*args)``, for a numba entry point whose disk cache may be damaged.

    If loading its compiled code from the cache fails, every cached kernel is
    deleted (with a ``RuntimeWarning`` that says so) and the call is made
    again, which compiles it and caches it anew. Where the files cannot be
    deleted, the second call raises what the first did.
    """
    try:
        return entry(*args)
    except Exception as exc:
        if not from_numba_cache(exc):
            raise
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    from . import CACHE_DIR

    for path in cached_files(CACHE_DIR):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            break
    warnings.warn(f"numba's cache of the kernels in {str(CACHE_DIR)!r} was damaged ({reason}): "
                  "deleted it; compiling the kernels again", RuntimeWarning, stacklevel=3)
    return entry(*args)
