"""Writing an image as a FITS file without holding it: the header first, then the data band by
band (astropy's ``StreamingHDU``, or one gzip stream for ``.fits.gz``), so memory follows one
band, not the image; under a hidden name beside the file, renamed to it once whole.
"""

import hashlib
import os
import re
import socket
import uuid

import numpy as np

from ._fits import _require_astropy
from ._lock import pid_alive

# The hidden file an export writes: ".tileblot-<host>-<pid>-<random>.partial", the host a
# digest of its name and process namespace. A name of fixed length: one built on the file's
# own would pass the file system's limit where the file's does not.
_PARTIAL = re.compile(r"\.tileblot-([0-9a-f]{8})-([0-9]+)-[0-9a-f]{12}\.partial")


def _host():
    # With the process namespace: containers that share a host name (host networking) but
    # not their processes cannot ask about each other's pids.
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:  # no /proc (macOS): the host alone
        namespace = ""
    return hashlib.sha256(f"{socket.gethostname()}/{namespace}".encode()).hexdigest()[:8]


def _partial_name():
    return f".tileblot-{_host()}-{os.getpid()}-{uuid.uuid4().hex[:12]}.partial"


def sweep_partials(folder):
    """Delete the hidden files that exports killed on this host (kill -9, out of memory) left
    in ``folder``; returns their paths. A file whose process may still run, or of another
    host (whose processes cannot be asked about from here), is kept."""
    swept = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return swept
    host = _host()
    for entry in entries:
        match = _PARTIAL.fullmatch(entry.name)
        if match and match[1] == host and not pid_alive(int(match[2])):
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            swept.append(entry.path)
    return swept


def image_header(shape, cards=(), *, history=()):
    """A primary FITS header for a float32 ``shape`` image, with ``cards`` and ``history``."""
    _require_astropy()
    from astropy.io import fits

    ny, nx = shape
    header = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2),
                          ("NAXIS1", int(nx)), ("NAXIS2", int(ny))])
    for key, value in dict(cards).items():
        header[key] = value
    for line in history:
        header.add_history(line)
    return header


def write_fits_bands(path, header, bands, *, overwrite=False):
    """Stream a float32 image into a new FITS file: the header, then its rows band by band.

    Parameters
    ----------
    path : str or os.PathLike
        A new ``.fits`` file, or ``.fits.gz`` (gzip-compressed, written
        through :mod:`gzip` as one sequential stream).
    header : astropy.io.fits.Header
        A primary header (``NAXIS1``/``NAXIS2`` give the image's shape).
    bands : iterable of numpy.ndarray
        The image's rows, top to bottom of the array (FITS row 1 first), in
        consecutive full-width bands; together exactly ``NAXIS2`` rows.
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    _require_astropy()
    from astropy.io import fits

    path = _local_file(path)
    if path.is_dir():  # named before any advice to overwrite it
        raise ValueError(f"{str(path)!r} is a directory; refusing to replace it")
    if path.exists() and not overwrite:
        raise _exists(path)
    checked = _checked_bands(bands, header["NAXIS1"], header["NAXIS2"])
    # Written under a name of its own beside it, then renamed: a half-written file is not a
    # FITS image, so none is ever left under the user's name, and a file it replaces stays
    # whole until the new one is (an export that fails halfway loses neither). One that
    # was killed cannot delete its own: the next export to the folder does.
    partial = path.with_name(_partial_name())
    try:
        # Made first, as blot makes a store's: where the file cannot be, before anything is read.
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.open("xb").close()
        sweep_partials(path.parent)
    except OSError as exc:  # read-only, permission denied, a file on the way
        problem = ("a file is in the way of its folder"
                   if isinstance(exc, (FileExistsError, NotADirectoryError))
                   else exc.strerror or type(exc).__name__)
        raise ValueError(f"{str(path)!r} cannot be written: {problem}") from None
    try:
        if path.name.lower().endswith(".gz"):
            _write_gzip(partial, header, checked, name=path.name)
        else:
            stream = fits.StreamingHDU(partial, header)
            with stream:
                for band in checked:
                    stream.write(band)
        _put(partial, path, overwrite)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _exists(path):
    return ValueError(f"{str(path)!r} already exists; pass overwrite=True (--overwrite) to "
                      "replace it")


def _put(partial, path, overwrite):
    """``partial`` renamed to ``path``; without ``overwrite``, never over a file made meanwhile
    (another export to the same name): linked, which fails where a file is."""
    if overwrite:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError:  # a file system without hard links: checked, then renamed
        if path.exists():
            raise _exists(path) from None
        os.replace(partial, path)

def _local_file(path):
    """The local path of a FITS file to write: a path or a ``file://`` URL; other URLs refused."""
    from . import _urls

    if not _urls.is_local(path):
        raise ValueError(f"{os.fspath(path)!r}: FITS files are written to the local filesystem "
                         "(a path or a file:// URL); copy the file to the object store after")
    return _urls.local_path(path)


def _checked_bands(bands, nx, ny):
    """``bands`` as C-ordered float32 arrays, checked to make up exactly ``ny`` rows of ``nx``."""
    rows = 0
    for band in bands:
        band = np.ascontiguousarray(band, dtype=np.float32)
        if band.ndim != 2 or band.shape[1] != nx or rows + band.shape[0] > ny:
            raise ValueError(f"band of shape {band.shape} does not fit a "
                             f"{ny} x {nx} image at row {rows}")
        yield band
        rows += band.shape[0]
    if rows != ny:
        raise ValueError(f"the bands held {rows} rows, the image has {ny}")


#: FITS files are made of 2880-byte blocks (the FITS standard, section 3.1).
_BLOCK = 2880


def _write_gzip(path, header, bands, *, name):
    """A gzip-compressed FITS image, written front to back (gzip cannot seek back).

    astropy's ``StreamingHDU`` refuses gzip files, so the layout is written
    here: the header as astropy serialises it (padded to whole blocks), the
    data big-endian as FITS requires, then zeros to the end of the last block.
    ``name``, the file's final name, is the one gzip records (without ``.gz``).
    """
    import gzip

    written = 0
    # Level 6, gzip's own default: level 9 is several times slower for a few percent.
    with open(path, "wb") as file, gzip.GzipFile(name, "wb", compresslevel=6,
                                                 fileobj=file) as out:
        out.write(header.tostring().encode("ascii"))
        for band in bands:
            out.write(band.astype(">f4", copy=False).data)
            written += band.nbytes
        out.write(bytes(-written % _BLOCK))
