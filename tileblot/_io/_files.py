"""Files as sources: objects that pickle as their path and reopen on each worker.

A pickled ``np.memmap`` would carry all its data, and an open FITS file a
handle; these carry only where the values are, and each task reads its
window from the file.
"""

import contextlib
import operator
import os
import threading

import numpy as np

from .._engine._quiet import warnings_ignored
from . import _urls
from ._errors import damaged


def _describe(key):
    """A window's slices as numpy writes them: ``rows 0:100, columns 50:150``."""
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, slice) for k in key):
        rows, columns = (f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
                         for k in key)
        return f"rows {rows}, columns {columns}"
    return f"[{key!r}]"


class _Reopened:
    """Base of sources that pickle as their arguments and reopen lazily."""

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state):
        self.__dict__.update(state)

    @property
    def ndim(self):
        return len(self.shape)

    def __getitem__(self, key):
        return self._open()[key]

    def __repr__(self):
        return f"{type(self).__name__}({self.token[1]!r})"


class MemmapFile(_Reopened):
    """A ``np.memmap`` (or ``.npy`` file) that reopens on each worker.

    ``offset`` is the file position of the array's lowest byte. An array laid
    out in ``order`` from there needs nothing more; any other view of a file
    (every other column, a transpose of a slice, reversed rows) also has its
    ``strides`` and the distance ``first`` from that byte to its first element.
    """

    def __init__(self, filename, dtype, shape, offset=0, order="C", strides=None, first=0):
        self.filename = os.fspath(filename)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in shape)
        self.offset = int(offset)
        self.order = order
        self.strides = None if strides is None else tuple(int(n) for n in strides)
        self.first = int(first)

    @classmethod
    def from_npy(cls, path):
        array = np.load(path, mmap_mode="r")
        return cls.from_memmap(array)

    @classmethod
    def from_memmap(cls, array):
        """The file behind ``array``, a ``np.memmap`` or a view of one; ``None`` if its values
        are not all in the file (a copy-on-write map, mode ``"c"``, keeps its edits in memory)
        or its mapping cannot be found."""
        position = _file_position(array)
        if position is None or array.mode == "c":
            return None
        if array.flags.c_contiguous or array.flags.f_contiguous:
            order = "C" if array.flags.c_contiguous else "F"
            return cls(array.filename, array.dtype, array.shape, position, order)
        # Negative strides put bytes before the first element.
        below = -sum(min(0, s * (n - 1)) for s, n in zip(array.strides, array.shape, strict=True))
        return cls(array.filename, array.dtype, array.shape, position - below,
                   strides=array.strides, first=below)

    @property
    def token(self):
        view = () if self.strides is None else (self.strides, self.first)
        return ("memmap", self.filename, self.offset, str(self.dtype), self.shape, self.order,
                *view)

    def _open(self):
        if getattr(self, "_array", None) is None:
            if self.strides is None:
                self._array = np.memmap(
                    self.filename, self.dtype, "r", self.offset, self.shape, self.order
                )
            else:
                above = sum(max(0, s * (n - 1))
                            for s, n in zip(self.strides, self.shape, strict=True))
                raw = np.memmap(self.filename, np.uint8, "r", self.offset,
                                (self.first + above + self.dtype.itemsize,))
                self._array = np.ndarray(self.shape, self.dtype, buffer=raw, offset=self.first,
                                         strides=self.strides)
        return self._array


def _file_position(array):
    """Where ``array``'s first element is in its memmap's file, or ``None`` if unknown.

    numpy gives a view of a memmap its parent's ``offset``, the file position
    of the array that holds the map: the view's own is that plus how far into
    that array's memory it starts.
    """
    import mmap

    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    try:
        offset = operator.index(array.offset)  # as given: a numpy integer, often
    except TypeError:
        return None
    if not isinstance(root.base, mmap.mmap):
        return None
    start = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return offset + start


def normal_extension(ext):
    """An extension's name as FITS compares it (``sci`` is ``SCI``; ``SCI, 2`` is ``SCI,2``):
    a resume with the same extension spelled otherwise was refused as another input."""
    if not isinstance(ext, str) or ext.strip().lstrip("-").isdigit():
        return ext
    return ",".join(part.strip() for part in ext.split(",")).upper()


#: Reads of HCOMPRESS-compressed images, one at a time in a process (see FitsImage).
_HCOMPRESS = threading.Lock()


class FitsImage(_Reopened):
    """One image extension of a FITS file, read window by window via ``section``.

    ``path`` may be an fsspec URL (``s3://...``): astropy then reads through fsspec
    with ``storage_options``, and ``section`` fetches only the bytes a window needs.
    """

    def __init__(self, path, ext=None, storage_options=None):
        self.path = os.fspath(path)
        self.ext = normal_extension(ext)  # what identifies the input; errors say what was given
        self.spelled = ext
        self.storage_options = {} if _urls.is_local(self.path) else (
            _urls.check_storage_options(storage_options))
        # A file shorter than its header says is refused below, by name: astropy's own warning
        # would come first (an error under -W error).
        with warnings_ignored(UserWarning, "File may have been truncated"), \
                self._fits_open() as hdul:
            index = hdul.index_of(self._ext_key(hdul))
            hdu = hdul[index]
            if hdu.header.get("NAXIS", 0) == 0 or not hasattr(hdu, "section"):
                raise ValueError(f"{self.path}[{self._label()}] holds no image")
            self._check_whole(hdul, index)
            naxis = hdu.header["NAXIS"]
            shape = tuple(int(hdu.header[f"NAXIS{k}"]) for k in range(naxis, 0, -1))
            self.dtype = np.asarray(hdu.section[(slice(0, 1),) * len(shape)]).dtype
        # Radio images carry degenerate axes (frequency, Stokes: length 1) beyond the sky's,
        # in the data as in the header: read as the 2-D sky image they hold.
        extra = len(shape) - 2
        degenerate = extra > 0 and all(n == 1 for n in shape[:extra])
        self.degenerate = (0,) * extra if degenerate else ()
        self.shape = shape[extra:] if degenerate else shape

    def _check_whole(self, hdul, index):
        """``ValueError`` if the local, uncompressed file ends before the extension's data does.

        Rows past the end would fail in the tasks, after the store is made. Measured
        from the file, as astropy's own warning is (recording that warning would swap
        process-wide state, which threads do not share safely); a gzip file's size
        says nothing of its data's, and astropy reads it whole anyway.
        """
        info = hdul.fileinfo(index)
        if not _urls.is_local(self.path) or getattr(info["file"], "compression", None):
            return
        size = os.path.getsize(_urls.local_path(self.path))
        if size < info["datLoc"] + info["datSpan"]:
            raise ValueError(
                f"{self.path} is damaged or still being written: it has {size} bytes, and its "
                f"header says its [{self._label()}] ends at byte "
                f"{info['datLoc'] + info['datSpan']}")

    def _label(self):
        return "first image" if self.ext is None else self.spelled

    def _fits_open(self):
        from astropy.io import fits

        if _urls.is_local(self.path):
            return fits.open(self.path)
        return fits.open(self.path, use_fsspec=True, fsspec_kwargs=self.storage_options)

    def _ext_key(self, hdul):
        if self.ext is None:
            for k, hdu in enumerate(hdul):
                # A table's header has NAXIS = 2 too (bytes per row, rows).
                if getattr(hdu, "is_image", False) and hdu.header.get("NAXIS", 0) >= 2:
                    return k
            raise ValueError(f"{self.path} has no image extension")
        ext = self.ext
        if isinstance(ext, str) and ext.lstrip("-").isdigit():
            ext = int(ext)
        if isinstance(ext, str) and "," in ext:
            name, ver = ext.split(",", 1)
            if not ver.strip().isdigit():
                raise ValueError(f"{self.path}: extension [{self.spelled}] must be [NAME,VERSION] "
                                 f"with an integer version, e.g. [{name.strip()},1]")
            ext = (name.strip(), int(ver))
        if isinstance(ext, int) and not -len(hdul) <= ext < len(hdul):
            raise ValueError(f"{self.path} has no extension {ext} (it has {len(hdul)}: "
                             f"0 to {len(hdul) - 1})")
        try:
            hdul.index_of(ext)
        except (KeyError, IndexError):
            raise ValueError(f"{self.path} has no extension {self.spelled!r}") from None
        return ext

    @property
    def token(self):
        return ("fits", self.path, str(self.ext))

    def header(self):
        """A copy of this extension's FITS header."""
        with self._fits_open() as hdul:
            return hdul[self._ext_key(hdul)].header.copy()

    def wcs(self, *, label, celestial=False):
        """This extension's WCS, with the file's look-up-table distortions.

        ``label`` names the file in errors; ``celestial`` as for
        :func:`tileblot._io._fits.wcs_from_header`.
        """
        from ._fits import wcs_from_header

        with self._fits_open() as hdul:
            return wcs_from_header(hdul[self._ext_key(hdul)].header, label=label, hdul=hdul,
                                   celestial=celestial)

    def __getitem__(self, key):
        # Opened per window: a tile's window is large, a header parse is not,
        # and no file handle outlives the read (or travels to a worker).
        window = self.degenerate + (key if isinstance(key, tuple) else (key,))
        try:
            with self._fits_open() as hdul:
                index = hdul.index_of(self._ext_key(hdul))
                hdu = hdul[index]
                # astropy's HCOMPRESS decoder is not thread-safe: two threads decoding at
                # once fail ("qtree_decode64: bad format code"); RICE, GZIP and PLIO are.
                serial = (_HCOMPRESS if str(getattr(hdu, "compression_type", "")).startswith(
                    "HCOMPRESS") else contextlib.nullcontext())
                with serial:
                    if (getattr(hdul.fileinfo(index)["file"], "compression", None)
                            and isinstance(key, tuple) and len(key) == 2):
                        # A gzipped (or bzip2...) file is one stream: every seek back starts
                        # its decompression again from the start, and a window narrower than
                        # the image is a seek per row (measured: a 512-row tile of a 4 MB
                        # .fits.gz took 17 s). Its rows at their full width are one read.
                        return np.array(
                            hdu.section[(*window[:-1], slice(None))][..., window[-1]])
                    return np.array(hdu.section[window])
        except (ValueError, TypeError) as exc:  # astropy's, numpy's: named outside
            # (An OSError is the file system's, not the bytes': it passes as it is.)
            problem = exc
        raise damaged(f"{self.path}[{self._label()}]", _describe(key), problem)
