"""Reading tileblot's outputs: the image with its record, and its FITS export."""

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._io import _fits
from .._io._coverage import UNDECODABLE
from .._io._store import IMAGE, describe
from .._io._urls import check_options_apply, is_location, output_store, zarr_store
from .._io._windows import CachedChunks
from .._pixmaps._checks import check_same_place
from .._pixmaps._wcs import wcs_pair


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


def _recorded_cards(wcs, shape, which, stacklevel):
    """FITS cards of a WCS to record, with a warning where they are off it (see
    :func:`~tileblot._io._fits.approximate_cards`); ``stacklevel``: the user's frame as the
    caller would pass it to :func:`warnings.warn`."""
    cards, note = _fits.approximate_cards(wcs, shape)
    if note is not None:
        warnings.warn(f"the {which} WCS is recorded as {note}", stacklevel=stacklevel + 1)
    return cards


def _known_cards(wcs, shape, which):
    """FITS cards of a WCS found on the way (a pixmap's, a mosaic's); ``None`` if it has none.

    A gwcs is recorded as its TAN-SIP approximation over the ``shape`` grid.
    One that FITS cannot hold to :data:`~tileblot._io._fits.RECORD_MAX_ERROR`
    pixel is not recorded, with a warning: the blot itself used the WCS whole.
    """
    # stacklevel: the caller of blot_to_zarr (here, wcs_entry, blot_to_zarr).
    try:
        return _recorded_cards(wcs, shape, which, stacklevel=4)
    except TypeError:  # not a celestial WCS that FITS can hold: record nothing
        return None
    except ValueError as exc:
        warnings.warn(f"the output records no {which} WCS: {exc}", stacklevel=4)
        return None


def given_wcs(wcs, shape, label="wcs", *, sized=True):
    """A WCS given to record (``label`` names it), checked: the image's size (if ``sized``), 2
    axes; a FITS header or dict of cards is read into an astropy WCS (so that it can be
    compared)."""
    if sized:
        check_wcs_size(wcs, shape, label)
    if isinstance(wcs, Mapping) and not hasattr(wcs, "cards"):
        wcs = dict(wcs)
    if isinstance(wcs, dict) or hasattr(wcs, "cards"):
        return _fits.wcs_from_header(wcs, label=label)
    if getattr(wcs, "pixel_n_dim", 2) != 2:
        raise ValueError(f"{label} must have 2 pixel axes, got {wcs.pixel_n_dim}: give its "
                         "celestial part (wcs.celestial)")
    return wcs


def _given_cards(wcs, shape, label, stacklevel):
    """:func:`_recorded_cards` of a WCS the user gave (``label`` names it in errors)."""
    try:
        return _recorded_cards(wcs, shape, "exposure", stacklevel + 1)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


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
    return _given_cards(wcs, output.image.shape, label, stacklevel + 1)


def _data_wcs(source):
    """The WCS a mosaic carries (a FITS header, a zarr ``attrs["wcs"]``), or ``None``."""
    if isinstance(source, CachedChunks):  # a plan reads zarr through its chunk cache
        source = source.array
    try:
        return _fits.source_wcs(source, what="data")
    except ValueError:  # the mosaic carries no WCS
        return None


#: Where a zarr mosaic may say its values' unit: FITS's keyword, and the CF convention's.
_UNIT_KEYS = ("BUNIT", "units", "unit")


def data_unit(source):
    """The unit a mosaic says its values are in, or ``None``.

    A FITS image's ``BUNIT``; for a zarr array, its attribute ``BUNIT``,
    ``units`` or ``unit``, or a ``BUNIT`` among the FITS cards of its
    ``attrs["wcs"]``.
    """
    from .._io._sources import FitsImage

    if isinstance(source, CachedChunks):  # a plan reads zarr through its chunk cache
        source = source.array
    if isinstance(source, FitsImage):
        found = [source.header().get("BUNIT")]
    else:
        attrs = getattr(source, "attrs", None)
        if attrs is None:
            return None
        cards = attrs.get("wcs")
        found = [attrs.get(key) for key in _UNIT_KEYS]
        found.append(cards.get("BUNIT") if isinstance(cards, Mapping) else None)
    # What a FITS card can hold (printable ASCII): the export writes it as BUNIT.
    units = [v.strip() for v in found if isinstance(v, str) and v.strip()
             and v.isascii() and v.isprintable()]
    return units[0] if units else None


def check_resumed(label, held, record, shapes):
    """What a resume cannot change of how a store describes its image, beyond its plan.

    ``held`` is the record the store keeps, ``record`` this call's; ``shapes``
    the exposure's and the mosaic's. A WCS given now must put the image where
    the recorded one does, and the mosaic's unit must be the same
    (``ValueError``); a WCS the store does not record is not added (a warning).
    """
    for which, shape in zip(("exposure", "mosaic"), shapes, strict=True):
        then, now = ((r.get("wcs") or {}).get(which) for r in (held, record))
        if now is None:
            continue
        if then is None:
            # stacklevel: the caller of blot_to_zarr (here, write_plans, blot_to_zarr).
            warnings.warn(f"{label} records no {which} WCS (its job started without one): a "
                          "resume does not add one; export_fits(wcs=...) (tileblot export "
                          "--wcs-from) writes one into the FITS file", stacklevel=4)
            continue
        check_same_place(*(_fits.wcs_from_header(cards, label=f"the {which} WCS")
                           for cards in (now, then)), shape,
                         f"cannot resume {label}: the {which} WCS now and the one it records")
    if None not in (held.get("unit"), record.get("unit")) and held["unit"] != record["unit"]:
        raise ValueError(f"cannot resume {label}: the mosaic's unit is {record['unit']!r} now, "
                         f"{held['unit']!r} when the job started")


def check_mosaic_wcs(source, shape, pixmap):
    """Whether a :func:`pixmap_from_wcs` pixmap was made for this mosaic.

    A ``ValueError`` if its mosaic WCS and the one ``source`` carries put the
    mosaic more than half a pixel apart; where ``source`` carries none, a warning
    if its mosaic WCS describes an image of another size than ``shape``.
    """
    pair = wcs_pair(pixmap)
    if pair is None:
        return
    own = _data_wcs(source)
    if own is not None:
        check_same_place(pair[1], own, shape, "the mosaic WCS the pixmap was made from "
                         "(pixmap_from_wcs) and data's own WCS")
    elif (size := _wcs_size(pair[1])) is not None and size != tuple(shape):
        # stacklevel: the caller of blot or blot_to_zarr (here, plan_blot, the facade).
        warnings.warn(f"the pixmap was made for a mosaic WCS of a {size[0]} x {size[1]} image, "
                      f"and data is {shape[0]} x {shape[1]}: is it that mosaic?", stacklevel=4)


def wcs_entry(plan, pixmap, wcs=None):
    """The ``wcs`` entry of an output's record: where the exposure and the mosaic are on the sky.

    Parameters
    ----------
    plan : BlotPlan
        The exposure's plan: its mosaic as opened (a FITS header or a zarr
        ``attrs["wcs"]`` may hold the mosaic's WCS) and both grids' shapes.
    pixmap : object
        The pixmap as the user gave it: one made by ``pixmap_from_wcs``
        knows both WCSs.
    wcs : astropy.wcs.WCS, astropy.io.fits.Header or gwcs.WCS, optional
        The exposure's WCS, given by the user: it wins, and anything else is a
        ``TypeError``.

    Returns
    -------
    dict or None
        ``{"exposure": cards, "mosaic": cards}`` (either may be missing), or
        ``None`` when neither is known. A gwcs becomes TAN-SIP cards, with a
        card giving the approximation's largest error.
    """
    exposure_shape, mosaic_shape = tuple(plan.pixmap.shape[:2]), tuple(plan.data.shape)
    pair = wcs_pair(pixmap)
    entry = {}
    if wcs is not None:
        # With the pixmap's own WCS to compare with, its size need not be the output's: a
        # pixmap_from_wcs of part of an exposure (a smaller shape) is described by its WCS.
        wcs = given_wcs(wcs, exposure_shape, sized=pair is None)
        if pair is not None:
            check_same_place(wcs, pair[0], exposure_shape, "wcs and the exposure WCS the "
                             "pixmap was made from (pixmap_from_wcs)")
        # stacklevel: the caller of blot_to_zarr (here, blot_to_zarr, the user).
        entry["exposure"] = _given_cards(wcs, exposure_shape, "wcs", stacklevel=3)
    elif pair is not None and (
            cards := _known_cards(pair[0], exposure_shape, "exposure")) is not None:
        entry["exposure"] = cards
    found = pair[1] if pair is not None else _data_wcs(plan.data.array)
    mosaic = None if found is None else _known_cards(found, mosaic_shape, "mosaic")
    if mosaic is not None:
        entry["mosaic"] = mosaic
    return entry or None


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


def _wcs_size(wcs):
    """``(ny, nx)`` of the image a WCS (or header) says it describes, or ``None``."""
    if isinstance(wcs, Mapping) or hasattr(wcs, "cards"):  # a FITS header
        try:
            return int(wcs["NAXIS2"]), int(wcs["NAXIS1"])
        except (KeyError, TypeError, ValueError):
            return None
    size = getattr(wcs, "pixel_shape", None)  # (nx, ny) in the shared WCS API
    return None if size is None else (int(size[1]), int(size[0]))


def check_wcs_size(wcs, shape, label="wcs"):
    """``ValueError`` if ``wcs`` says it describes an image of another size than ``shape``."""
    size = _wcs_size(wcs)
    if size is not None and size != tuple(shape):
        raise ValueError(
            f"{label} describes a {size[0]} x {size[1]} image, but the exposure's (the store's "
            f"image) is {shape[0]} x {shape[1]}: its pixels would be placed on another "
            "exposure's sky; give the exposure's own WCS"
        )


def _bands(image, rows):
    """The image's rows in consecutive bands of ``rows`` (read one at a time)."""
    for start in range(0, image.shape[0], rows):
        try:
            band = image[start : start + rows]
        except UNDECODABLE as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            yield band
            continue
        raise ValueError(
            f"a chunk of {image.store_path} in rows {start} to {start + rows - 1} does not "
            f"decode ({problem}): the store was damaged; a resume with verify=True "
            "(tileblot blot ... --resume --verify) finds and redoes such tiles"
        )


def _unit_card(record):
    """``{"BUNIT": unit}`` where the mosaic's unit is recorded and the blot kept it (``iscale``
    1); scaled values are in a unit tileblot cannot name (``_history`` says so)."""
    unit, iscale = record.get("unit"), record.get("params", {}).get("iscale")
    return {"BUNIT": unit} if unit is not None and iscale == 1 else {}


def _history(record):
    params = record.get("params", {})
    yield f"blotted by tileblot {record.get('version', '?')}"
    yield ", ".join(f"{key}={value}" for key, value in params.items())
    if record.get("unit") is not None and params.get("iscale") != 1:
        yield f"mosaic unit {record['unit']}, scaled by iscale: no BUNIT"


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
        Export a store whose job has not finished (missing tiles hold the
        fill value). By default such a store is refused.
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
    output = (store if isinstance(store, BlotOutput)
              else open_output(store, storage_options=storage_options))
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    record = output.record
    if not output.complete and not allow_incomplete:
        raise ValueError(
            f"output store {record['store']} is incomplete ({record['tiles_done']} of "
            f"{record['tiles']} tiles): finish it with resume=True (tileblot blot ... --resume), "
            "or pass allow_incomplete=True (--allow-incomplete)"
        )
    if wcs is not None:
        # stacklevel: the caller of export_fits (here, the user).
        cards = export_cards(wcs, output, stacklevel=2)
    else:
        cards = (record.get("wcs") or {}).get("exposure", {})
    header = _fits.image_header(output.image.shape, {**cards, **_unit_card(record)},
                                history=_history(record))
    # One row of tiles per band: each zarr chunk is decoded once, and memory holds one band.
    rows = max(1, min(output.image.chunks[0], output.image.shape[0]))
    return _fits.write_fits_bands(path, header, _bands(output.image, rows), overwrite=overwrite)
