"""Keep numba's on-disk cache of the kernels in step with their source.

numba's cache checks only the modification time and size of the file that
defines each cached function. The entry points inline code from other
modules (the pixel loop in ``_loop.py``), so an edit there — a ``git pull``
into an editable install, say — would leave every entry point running its
old compiled code, silently. We stamp the cache directory with a digest of
all kernel sources and drop the cached code when the digest changes.
"""

import hashlib
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


def drop_stale_cache(folder=_HERE):
    """Delete numba's cached kernels in ``folder/__pycache__`` if the sources changed.

    Returns True if anything was deleted. Never raises for file-system
    reasons: a read-only install simply keeps (and numba re-validates) what
    it has.
    """
    cache = folder / "__pycache__"
    stamp = cache / _STAMP
    digest = sources_digest(folder)
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    dropped = False
    try:
        for path in cache.glob("*.nb[ic]"):
            path.unlink(missing_ok=True)
            dropped = True
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass
    return dropped
