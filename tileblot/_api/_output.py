"""Reading tileblot's outputs: the image with its record, and its FITS export."""

import os
from dataclasses import dataclass, field

from .._engine._quiet import warn
from .._engine._validation import check_flags
from .._io import _fits, _fits_out
from .._io._errors import DamagedOutputError, undecodable
from .._io._locations import store_location, within
from .._io._store import IMAGE, describe
from .._io._urls import check_options_apply, is_local, is_location, output_store, zarr_store
from .._pixmaps._checks import check_same_place
from ._description import given_cards, given_wcs, unit_kept


@dataclass(frozen=True)
class BlotOutput:
    """A tileblot output store, opened: its image and the record of how it was made.

    Attributes
    ----------
    image : zarr.Array
        The blotted image (float32, one zarr chunk per tile), opened read-only;
        slice it to read (``output.image[...]`` reads it all).
    record : dict
        What the store records: ``params`` (interpolator, precision, ...),
        ``data`` and ``pixmap`` (the inputs), ``shape``, ``chunks``,
        ``version``, ``tiles``, ``tiles_done``, ``complete``, ``coverage``
        (the share of the exposure's pixels on the mosaic: ``onimage``,
        ``pixels``, ``fraction``, ``tiles_counted``, ``tiles``, ``partial``
        when only the tiles done so far are counted; ``None`` for a store
        written before tileblot counted it) and, when either WCS was known,
        ``wcs`` (``{"exposure": cards, "mosaic": cards}``, FITS header cards;
        either may be missing).
    """

    image: object = field(repr=False)
    record: dict = field(repr=False)

    @property
    def complete(self):
        """Whether every tile is recorded as written."""
        return bool(self.record["complete"])

    @property
    def wcs(self):
        """The exposure's WCS (an ``astropy.wcs.WCS``): the image's own; ``None`` if unknown."""
        return self._wcs("exposure")

    @property
    def mosaic_wcs(self):
        """The mosaic's WCS (an ``astropy.wcs.WCS``); ``None`` if unknown."""
        return self._wcs("mosaic")

    def _wcs(self, which):
        cards = (self.record.get("wcs") or {}).get(which)
        if cards is None:
            return None
        wcs = _fits.wcs_from_header(cards, label=f"the {which} WCS")
        if which == "exposure":
            wcs.pixel_shape = self.image.shape[::-1]  # the grid it describes: the image's
        return wcs

    def __repr__(self):
        done, tiles = self.record["tiles_done"], self.record["tiles"]
        shape = " x ".join(str(n) for n in self.image.shape)
        known = "recorded" if (self.record.get("wcs") or {}).get("exposure") else "unknown"
        return (f"BlotOutput({self.record['store']}: {shape} {self.image.dtype}, "
                f"{done}/{tiles} tiles, WCS {known})")


def export_cards(wcs, output, label="wcs", stacklevel=2):
    """The FITS cards of a WCS given for ``output``'s export (``label`` names it in errors).

    Checked by :func:`given_wcs`, and against the exposure WCS the store
    records (unless that cannot be read: the given one then replaces it).
    ``stacklevel``: the user's frame, as the caller would pass it to
    :func:`warnings.warn`.
    """
    wcs = given_wcs(wcs, output.image.shape, label)
    try:
        recorded = output.wcs
    except ValueError:  # a record this version cannot read back
        recorded = None
    if recorded is not None:
        check_same_place(wcs, recorded, output.image.shape,
                         f"{label} and the exposure WCS the store records")
    return given_cards(wcs, output.image.shape, label, stacklevel + 1)


def open_output(store, *, storage_options=None):
    """Open a tileblot output store: its image and the record of how it was made.

    Parameters
    ----------
    store : str, os.PathLike or zarr store
        A store written by :func:`tileblot.blot_to_zarr` or ``tileblot blot``:
        a local path, a ``file://`` or fsspec URL (``s3://...``), or a zarr
        store object.
    storage_options : dict, optional
        Options for fsspec when ``store`` is a URL (see :doc:`storage`).

    Returns
    -------
    BlotOutput
        ``.image`` (a read-only ``zarr.Array``), ``.record`` (a dict: the
        parameters, the inputs, completeness, the WCSs' FITS cards), and
        ``.wcs``/``.mosaic_wcs`` (astropy WCSs, or ``None`` when unknown).

    Raises
    ------
    ValueError
        If ``store`` is not a tileblot output, or is a URL that cannot be
        used (see :doc:`storage`).

    See Also
    --------
    export_fits : Write the output as a FITS image with its WCS.

    Examples
    --------
    >>> import numpy as np
    >>> import tileblot
    >>> import zarr
    >>> store = zarr.storage.MemoryStore()
    >>> y, x = np.mgrid[0:4, 0:6]
    >>> _ = tileblot.blot_to_zarr(np.ones((8, 8)), np.dstack([x + 1.0, y + 1.0]), store,
    ...                           chunks=2, progress=False)
    >>> output = tileblot.open_output(store)
    >>> output.image.shape, output.complete, output.record["params"]["interp"]
    ((4, 6), True, 'poly5')
    """
    import zarr

    check_options_apply(storage_options, store)
    store = output_store(store, storage_options=storage_options)
    record = describe(store)
    if is_location(store):  # a local path or file:// URL: read-only, file:// stripped
        store = zarr_store(store, read_only=True, what="output store")
    image = zarr.open_group(store=store, mode="r")[IMAGE]
    return BlotOutput(image, record)


def _bands(image, rows, label):
    """The image's rows in consecutive bands of ``rows`` (read one at a time); ``label`` names
    the output store in an error."""
    for start in range(0, image.shape[0], rows):
        try:
            band = image[start : start + rows]
        except Exception as exc:
            if not undecodable(exc):  # the store or the machine, not the chunk's bytes
                raise
            problem = f"{type(exc).__name__}: {exc}"
        else:
            yield band
            continue
        end = min(start + rows, image.shape[0]) - 1
        raise DamagedOutputError(
            f"output store {label}: a chunk of its image in rows {start} to {end} does not "
            f"decode ({problem}): the store was damaged; a resume with verify=True "
            "(tileblot blot ... --resume --verify) finds and redoes such tiles"
        )


def _unit_card(record):
    """``{"BUNIT": unit}`` where the mosaic's unit is recorded and the values kept it."""
    unit = record.get("unit")
    return {"BUNIT": unit} if unit is not None and unit_kept(record) else {}


def _history(record):
    params = record.get("params", {})
    yield f"blotted by tileblot {record.get('version', '?')}"
    yield ", ".join(f"{key}={value}" for key, value in params.items())
    if record.get("unit") is not None and not unit_kept(record):
        yield f"mosaic unit {record['unit']}, scaled by iscale: no BUNIT"
    if not record.get("complete", True):
        yield (f"INCOMPLETE: {_missing(record)} of {record['tiles']} tiles not complete "
               f"(unrecorded, or their chunk gone): fillval={params.get('fillval')}, or values "
               "no record vouches for (see TBMISSNG)")


def _check_outside(path, image):
    """``ValueError`` if the FITS ``path`` lies inside the local store that holds ``image``: an
    overwrite of the output, which deletes its image, would take the file with it."""
    store = getattr(image, "store", None)
    root = getattr(store, "root", None)  # a local directory (LocalStore)
    if root is None or not is_local(path):
        return
    if within(store_location(path), store_location(root)):
        raise ValueError(f"{os.fspath(path)!r} lies inside the output store {str(root)!r}: "
                         "write the FITS file beside the store, not inside it")


def _missing(record):
    """Tiles of an output not (or no longer) done: ``tiles_done`` counts the whole ones."""
    return record["tiles"] - record["tiles_done"]


def export_fits(store, path, *, wcs=None, overwrite=False, allow_incomplete=False,
                storage_options=None):
    """Write a tileblot output as a FITS image, with the exposure's WCS in its header.

    The file is streamed: its header, then the image one row of tiles at a
    time, so memory holds one band of ``chunks[0]`` rows, never the image.

    Parameters
    ----------
    store : str, os.PathLike, zarr store or BlotOutput
        A tileblot output store (or one opened with :func:`open_output`).
    path : str or os.PathLike
        The FITS file to write, a local path or ``file://`` URL: ``.fits``,
        or ``.fits.gz`` for a gzip-compressed file (streamed the same way,
        through one sequential gzip stream; ds9 and astropy open it as it is).
    wcs : astropy.wcs.WCS, astropy.io.fits.Header or gwcs.WCS, optional
        The WCS to write (a gwcs as its TAN-SIP fit over the image, as
        :func:`blot_to_zarr` records it); by default the exposure's WCS the
        store records. Without either, the file has no WCS.
    overwrite : bool, optional
        Replace an existing file.
    allow_incomplete : bool, optional
        Export a store whose job has not finished (tiles not complete,
        unrecorded or with their chunk gone, hold the fill value, or values
        no record vouches for; a warning, a ``TBMISSNG`` card counting them
        and a ``HISTORY`` line say so). By default such a store is refused.
    storage_options : dict, optional
        Options for fsspec when ``store`` is a URL (see :doc:`storage`);
        ``path`` is a local file.

    Returns
    -------
    pathlib.Path
        The file written. Its primary HDU holds the float32 image; its
        header, the WCS cards and ``HISTORY`` lines naming tileblot's version
        and the blot's parameters.

    Raises
    ------
    ValueError
        If ``store`` is not a tileblot output, is incomplete (unless
        ``allow_incomplete``), or ``path`` exists (unless ``overwrite``) or
        is not on the local filesystem.

    See Also
    --------
    open_output : The image and its record, in Python.
    """
    check_flags(overwrite=overwrite, allow_incomplete=allow_incomplete)
    output = (store if isinstance(store, BlotOutput)
              else open_output(store, storage_options=storage_options))
    check_export(output, path, allow_incomplete=allow_incomplete)
    # stacklevel: the caller of export_fits (here, the user).
    cards = None if wcs is None else export_cards(wcs, output, stacklevel=2)
    return write_export(output, path, cards, overwrite=overwrite, stacklevel=3)


def check_export(output, path, *, allow_incomplete=False):
    """What :func:`export_fits` refuses of ``output`` and ``path`` before any WCS (see there)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not _fits.is_fits_name(path, written=True):
        name, ext = _fits.split_fits_spec(os.fspath(path))
        hint = ("; tileblot writes a whole file (its image in the primary HDU): give the "
                "file's name alone" if ext is not None and _fits.is_fits_name(name) else
                "; write the .fits file, then compress it with fpack"
                if name.lower().endswith(".fz") else "")
        raise ValueError(
            f"{os.fspath(path)!r} is not named like a FITS file tileblot writes: .fits (or "
            f".fit, .fts), or .fits.gz for a gzip-compressed one{hint}")
    record = output.record
    _check_outside(path, output.image)
    if not output.complete and not allow_incomplete:
        raise ValueError(
            f"output store {record['store']} is incomplete ({record['tiles_done']} of "
            f"{record['tiles']} tiles done): finish it with resume=True (tileblot blot ... "
            "--resume), or pass allow_incomplete=True (--allow-incomplete)"
        )


def write_export(output, path, cards=None, *, overwrite=False, stacklevel=2):
    """Write ``output`` (checked by :func:`check_export`) as a FITS file at ``path``.

    ``cards``: the WCS cards to write (:func:`export_cards`), computed once by
    the caller that checked them; ``None``, the exposure WCS the store
    records. ``stacklevel``: the user's frame, as for :func:`warnings.warn`.
    """
    record = output.record
    if cards is None:
        cards = (record.get("wcs") or {}).get("exposure", {})
    cards = {**cards, **_unit_card(record)}
    if not output.complete:
        # Tiles of fill value look like blank sky: the file says which are not to be trusted.
        cards["TBMISSNG"] = _missing(record)
        warn(f"output store {record['store']} is incomplete: {_missing(record)} of "
                      f"{record['tiles']} tiles are not complete (unrecorded, or their chunk "
                      "gone): they hold the fill value, or values no record vouches for; the "
                      "FITS header says so: TBMISSNG and a HISTORY line", stacklevel=stacklevel)
    header = _fits_out.image_header(output.image.shape, cards, history=_history(record))
    # One row of tiles per band: each zarr chunk is decoded once, and memory holds one band.
    rows = max(1, min(output.image.chunks[0], output.image.shape[0]))
    return _fits_out.write_fits_bands(path, header, _bands(output.image, rows, record["store"]),
                                  overwrite=overwrite)
