"""FITS headers and WCSs: reading an input's WCS, recording it as cards, naming FITS files.

Three jobs, the first two on astropy (imported lazily: tileblot needs it only for these):

* **Reading** a WCS from where tileblot's inputs keep one: a FITS extension's
  header, or a zarr array's ``attrs["wcs"]`` (a dict of FITS header cards,
  the layout ``tileblot demo`` writes and ``tileblot blot --wcs-from`` reads).
* **Recording** a WCS as JSON-ready FITS header cards, written with 17
  significant digits (astropy's default keeps 14), so that the WCS read back
  from the record is the one given, to a rounding (CD is written as PC and
  CDELT: sky positions agree to ~1e-15 degrees, not ~1e-12). SIP
  polynomials are kept; look-up-table distortions (``D2IMARR``, ``WCSDVARR``
  extensions, e.g. ACS's) cannot live in header cards: they are read from
  the file, so the pixmap uses them, and left out of the cards, which then
  say what that costs (as for a gwcs's TAN-SIP fit). Cards more than
  :data:`RECORD_MAX_ERROR` pixel off are refused.
* **Naming**: which paths are FITS files (:func:`is_fits_name`), read or
  refused as zarr outputs, and which tileblot writes.

Writing an image out is :mod:`._fits_out`'s.
"""

import json
import math
import os
import re

import numpy as np

from .._engine._quiet import warnings_ignored

#: Keywords of a header that describe no WCS (or are re-made when a file is written).
_STRUCTURAL = frozenset({"", "COMMENT", "HISTORY", "SIMPLE", "BITPIX", "NAXIS", "NAXIS1",
                         "NAXIS2", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT"})
#: Any of these in a header means it carries a WCS.
_WCS_KEYS = ("CTYPE1", "CRVAL1", "CD1_1", "PC1_1")
#: Suffixes of the FITS files tileblot writes: plain, or gzip-compressed as one stream.
WRITTEN_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
#: Suffixes tileblot reads as FITS (fpack's tile-compressed ``.fz`` too) and refuses as zarr
#: output paths.
FITS_SUFFIXES = (*WRITTEN_SUFFIXES, ".fits.fz", ".fit.fz", ".fts.fz", ".fz")
#: ``file.fits[EXT]``: an extension by number or name.
_FITS_EXT = re.compile(r"^(?P<path>.+?)\[(?P<ext>[^\]]+)\]$")


def split_fits_spec(text):
    """``(path, ext)`` of ``file.fits[EXT]`` (``ext`` a str, or None without brackets)."""
    match = _FITS_EXT.match(text)
    return (match["path"], match["ext"]) if match else (text, None)


def fits_stem(path):
    """``path`` (a str) without its FITS suffix (the longest that matches), and the name of the
    plain FITS file tileblot would write for it: ``("x", "x.fits")`` for ``x.fits.fz``."""
    name = split_fits_spec(path)[0]
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            stem, spelled = name[: len(name) - len(suffix)], name[len(name) - len(suffix):]
            if suffix.endswith(".fz"):  # fpack's: the plain file it compresses
                spelled = spelled[:-3] or ".fits"
            return stem, stem + spelled
    return name, name


def is_fits_name(path, *, written=False):
    """Whether ``path`` (a str or path, maybe ``file.fits[EXT]``) is named like a FITS file.

    ``written``: like one tileblot writes (``.fits`` or ``.fits.gz``, not fpack's ``.fz``).
    """
    if not isinstance(path, (str, os.PathLike)):
        return False
    name, ext = split_fits_spec(os.fspath(path))
    if written and ext is not None:
        return False
    return name.lower().endswith(WRITTEN_SUFFIXES if written else FITS_SUFFIXES)


def _require_astropy():
    try:
        import astropy  # noqa: F401
    except ImportError:
        raise ImportError("astropy is needed to read or write FITS headers and WCSs; install "
                          "it with: pip install 'tileblot[astropy]'") from None


def wcs_from_header(header, *, label, hdul=None, celestial=False):
    """An astropy WCS from a FITS header (or a dict of its cards), refusing one without a WCS.

    Parameters
    ----------
    header : astropy.io.fits.Header or dict
    label : str
        How to name the header's owner in an error.
    hdul : astropy.io.fits.HDUList, optional
        The file the header is from: its ``WCSDVARR`` and ``D2IMARR``
        extensions hold look-up-table distortions (HST's), which astropy
        reads only from the file.
    celestial : bool, optional
        Read a WCS with more than 2 axes whose first two are the sky (a
        degenerate frequency or Stokes axis, as radio images carry) as its
        celestial part; by default it is refused.

    Returns
    -------
    astropy.wcs.WCS
        A 2-D celestial WCS.
    """
    _require_astropy()
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    if isinstance(header, dict):
        header = fits.Header(header)
    if not any(key in header for key in _WCS_KEYS):
        raise ValueError(f"{label} has no WCS (no CTYPE/CRVAL/CD keywords in its header)")
    # astropy reports each header fix-up it makes (DATE-OBS formats, RADECSYS, ...):
    # noise here, the WCS is still the file's.
    with warnings_ignored(FITSFixedWarning):
        try:
            wcs = WCS(header, hdul)
        except Exception as exc:  # wcslib raises many types for a bad header
            raise ValueError(f"{label}: cannot read its WCS: {exc}") from None
    if celestial and wcs.pixel_n_dim > 2 and sorted((wcs.wcs.lng, wcs.wcs.lat)) == [0, 1]:
        wcs = wcs.celestial
    if wcs.pixel_n_dim != 2:
        raise ValueError(f"{label}: its WCS has {wcs.pixel_n_dim} axes, not 2")
    return wcs


def read_wcs(spec, *, what, storage_options=None):
    """``(wcs, shape)`` of a FITS image: its WCS (distortion tables included) and ``(ny, nx)``."""
    from ._files import FitsImage
    from ._sources import open_path

    _require_astropy()
    source = open_path(spec, what=what, storage_options=storage_options)
    if not isinstance(source, FitsImage):
        raise ValueError(f"{what}: {os.fspath(spec)!r} is not a FITS file")
    # An image of degenerate axes beyond the sky's (a radio image's) is read as its sky part.
    return (source.wcs(label=f"{what} {os.fspath(spec)}", celestial=len(source.shape) == 2),
            source.shape)


def source_wcs(source, *, what):
    """The WCS a data source carries: a FITS image's header, or a zarr array's ``attrs["wcs"]``.

    Parameters
    ----------
    source : object
        An opened source (see :func:`tileblot._io._sources.as_source`).
    what : str
        How to name it in an error.

    Returns
    -------
    astropy.wcs.WCS
        Its celestial part, where further axes follow the sky's (a mosaic is
        2-D; radio images carry a degenerate frequency axis).
    """
    from ._files import FitsImage

    if isinstance(source, FitsImage):
        return source.wcs(label=what, celestial=True)
    attrs = getattr(source, "attrs", None)
    if attrs is None:
        raise ValueError(f"{what} has no WCS: use a FITS file or a zarr array with a 'wcs' "
                         "attribute")
    cards = attrs.get("wcs")
    if cards is None:
        raise ValueError(f"{what}: the zarr array has no attribute 'wcs' (a dict of FITS header "
                         "cards)")
    if not isinstance(cards, dict):
        raise ValueError(f"{what}: the zarr array's attribute 'wcs' is a {type(cards).__name__}, "
                         "not a dict of FITS header cards (such as dict(wcs.to_header()))")
    return wcs_from_header(cards, label=what, celestial=True)


#: Error (pixels) the TAN-SIP fit of a gwcs aims at; cards further off than this from the WCS
#: they stand for are recorded with a warning.
SIP_MAX_ERROR = 0.01
#: Beyond this error (pixels) cards are not recorded for a WCS (refused when given).
RECORD_MAX_ERROR = 0.5
#: The card that says a gwcs was approximated, and how well.
SIP_NOTE = "TBGWCSAP"
#: The card that says look-up tables were left out, and what that costs.
TABLES_NOTE = "TBLUTOUT"


def _approximation_error(world, approx, box):
    """Largest distance (pixels) from the pixels of a 33 x 33 grid over ``box`` to where the
    FITS WCS ``approx`` puts their world coordinates ``world(x, y)``; inf if it cannot say."""
    (x0, x1), (y0, y1) = box
    y, x = np.mgrid[y0:y1:33j, x0:x1:33j]
    try:
        with warnings_ignored():
            # quiet: a fit so poor that the inversion diverges is measured, not raised.
            px, py = approx.all_world2pix(*world(x, y), 0, quiet=True)
    except Exception:  # wcslib raises many types: no answer, no approximation
        return math.inf
    error = np.hypot(np.asarray(px) - x, np.asarray(py) - y)
    return float(np.nanmax(error)) if np.isfinite(error).any() else math.inf


def _celestial_gwcs(wcs):
    """Whether a gwcs has a sky axis, the part a TAN-SIP fit can stand for."""
    try:
        kinds = list(wcs.world_axis_physical_types)
    except Exception:  # a gwcs that cannot say: let the fit decide
        return True
    return any(isinstance(kind, str) and kind.startswith("pos.") for kind in kinds)


def gwcs_header(wcs, shape):
    """FITS cards (TAN-SIP) that stand for an imaging gwcs over a ``shape`` grid.

    gwcs's own fit (``to_fits_sip``) over the gwcs's bounding box, or the grid's
    pixel centres when it has none, to :data:`SIP_MAX_ERROR` pixels. The error
    is then measured here, on a 33 x 33 grid of that box (the fitted WCS
    inverted back to pixels), and written into the :data:`SIP_NOTE` card.
    Returns ``(header, error)``. ``TypeError`` for a gwcs without celestial
    axes; ``ValueError`` when no fit is within :data:`RECORD_MAX_ERROR` (the
    cards would put pixels elsewhere).
    """
    from astropy.wcs import WCS

    if not _celestial_gwcs(wcs):
        raise TypeError("this gwcs has no celestial axes: FITS TAN-SIP cannot stand for it")
    ny, nx = shape
    box = wcs.bounding_box
    box = ((0.0, nx - 1.0), (0.0, ny - 1.0)) if box is None else tuple(
        tuple(float(v) for v in interval) for interval in box.bounding_box(order="F"))
    try:
        # A failed sampling check is answered by the error measured below.
        with warnings_ignored():
            header = wcs.to_fits_sip(bounding_box=box, max_pix_error=SIP_MAX_ERROR,
                                     max_inv_pix_error=SIP_MAX_ERROR)
    except Exception as exc:  # gwcs and astropy modelling raise many types
        raise ValueError(f"this gwcs has no FITS TAN-SIP form (gwcs's fit failed: "
                         f"{type(exc).__name__}: {exc})") from None
    with warnings_ignored():
        approx = WCS(header)
    error = _approximation_error(wcs, approx, box)
    if not error <= RECORD_MAX_ERROR:
        raise ValueError(f"this gwcs has no FITS TAN-SIP form within {RECORD_MAX_ERROR} pixel "
                         f"over its grid: the best fit is {error:.2g} pixel off")
    header[SIP_NOTE] = (f"gwcs as TAN-SIP, max error {error:.2g} px", "tileblot")
    return header, error


#: Look-up-table distortions an astropy WCS can hold and FITS header cards cannot.
_TABLES = ("det2im1", "det2im2", "cpdis1", "cpdis2")


def _tables_error(wcs, header, shape):
    """``(tables, error)``: the look-up tables ``wcs`` holds, and the distance (pixels) leaving
    them out moves its pixels (measured over ``shape``, or the WCS's own image); ``ValueError``
    beyond :data:`RECORD_MAX_ERROR`."""
    from astropy.wcs import WCS

    tables = [name for name in _TABLES if getattr(wcs, name, None) is not None]
    if not tables:
        return tables, 0.0
    if shape is None and wcs.pixel_shape is not None:
        shape = tuple(wcs.pixel_shape)[::-1]
    error = math.inf
    if shape is not None:
        ny, nx = shape
        with warnings_ignored():
            cards_only = WCS(header)
        error = _approximation_error(lambda x, y: wcs.all_pix2world(x, y, 0), cards_only,
                                     ((0.0, nx - 1.0), (0.0, ny - 1.0)))
    if not error <= RECORD_MAX_ERROR:
        size = "by an unknown amount" if math.isinf(error) else f"{error:.2g} pixel"
        raise ValueError(
            f"this WCS holds look-up-table distortion ({', '.join(tables)}: a FITS file's "
            f"WCSDVARR/D2IMARR extensions), which header cards cannot: without it the "
            f"WCS would be off {size} (in Python, a copy with {', '.join(tables)} set to None "
            "is recorded without them)")
    return tables, error


def wcs_cards(wcs, shape=None):
    """A WCS as a JSON-ready dict of FITS header cards, with 17 significant digits.

    :func:`approximate_cards` without its note.
    """
    return approximate_cards(wcs, shape)[0]


def approximate_cards(wcs, shape=None):
    """``(cards, note)``: a WCS as a JSON-ready dict of FITS header cards, with 17 significant
    digits, and what they leave out.

    Parameters
    ----------
    wcs : astropy.wcs.WCS, astropy.io.fits.Header, dict or gwcs.WCS
        An astropy WCS (its SIP polynomials included), or header cards that
        hold one (their WCS is read and written again, so only WCS cards are kept).
        A gwcs (JWST, Roman) is approximated by TAN-SIP cards over ``shape``
        (see :func:`gwcs_header`): FITS has no exact form for it.
    shape : tuple of int, optional
        ``(ny, nx)`` of the image the WCS describes: a gwcs is fitted over it,
        and a WCS with look-up-table distortions is measured over it (the
        distance leaving them out moves its pixels).

    Returns
    -------
    cards : dict
        ``{keyword: value}``; ``astropy.wcs.WCS(astropy.io.fits.Header(cards))``
        reads it back.
    note : str or None
        Where the cards are more than :data:`SIP_MAX_ERROR` pixel from the
        WCS (a gwcs's fit, look-up tables left out): how, and by how much,
        for a warning. ``None`` otherwise.

    Raises
    ------
    ValueError
        If the cards would place the image's pixels more than
        :data:`RECORD_MAX_ERROR` pixel from where the WCS does, or the WCS has
        other than 2 axes.
    """
    _require_astropy()
    from astropy.io import fits
    from astropy.wcs import WCS, WCSHDO_P17, WCSHDO_all
    from astropy.wcs.wcs import WCSHDO_SIP

    notes, note = {}, None
    if callable(getattr(wcs, "to_fits_sip", None)):  # a gwcs
        if shape is None:
            raise TypeError("a gwcs is recorded as TAN-SIP cards fitted over its image: "
                            "its shape is needed")
        header, error = gwcs_header(wcs, shape)
        notes[SIP_NOTE] = header[SIP_NOTE]
        if error > SIP_MAX_ERROR:
            note = f"a TAN-SIP fit of its gwcs, up to {error:.2g} pixel off"
        wcs = header
    if isinstance(wcs, (dict, fits.Header)):
        wcs = wcs_from_header(wcs, label="the WCS header")
    if not isinstance(wcs, WCS):
        raise TypeError(
            "a WCS to record must be an astropy WCS, FITS header cards or a gwcs, got "
            f"{type(wcs).__name__}"
        )
    if wcs.pixel_n_dim != 2:
        raise ValueError(f"a WCS to record must have 2 pixel axes, got {wcs.pixel_n_dim}: "
                         "give its celestial part (wcs.celestial)")
    # 17 significant digits: astropy's default 14 moves a pixmap by ~1e-9 pixels.
    # astropy says the look-up tables are left out: _tables_error measures what it costs.
    with warnings_ignored():
        header = wcs.to_header(relax=WCSHDO_all | WCSHDO_P17 | WCSHDO_SIP)
    tables, error = _tables_error(wcs, header, shape)
    if tables:
        notes[TABLES_NOTE] = (f"{', '.join(tables)} left out, max error {error:.2g} px")
        if error > SIP_MAX_ERROR:
            note = (f"without its look-up-table distortion ({', '.join(tables)}), up to "
                    f"{error:.2g} pixel off")
    cards = {key: header[key] for key in header if key not in _STRUCTURAL}
    cards.update(notes)
    # JSON-ready: numpy scalars and astropy's Undefined become plain values or are dropped.
    return json.loads(json.dumps(cards, default=lambda value: None)), note
