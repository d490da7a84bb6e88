"""How an output describes its image, beyond its pixels: where it is on the sky and in what unit.

The store's record keeps the exposure's and the mosaic's WCSs as FITS cards
(:func:`wcs_entry`; a WCS the cards cannot hold closely is noted, or left
out, with a warning) and the unit of the mosaic's values
(:func:`data_unit`). Two WCSs given for one image are checked to agree
(:func:`check_mosaic_wcs`, :func:`given_wcs` with
:func:`~tileblot._pixmaps._checks.check_same_place`), and a resume to
describe the image as the store does (:func:`check_resumed`).
"""

from collections.abc import Mapping

from .._io import _fits
from .._io._windows import CachedChunks
from .._pixmaps._checks import check_same_place
from .._pixmaps._wcs import wcs_pair
from ._exposures import warn


def _recorded_cards(wcs, shape, which, stacklevel):
    """FITS cards of a WCS to record, with a warning where they are off it (see
    :func:`~tileblot._io._fits.approximate_cards`); ``stacklevel``: the user's frame as the
    caller would pass it to :func:`warnings.warn`."""
    cards, note = _fits.approximate_cards(wcs, shape)
    if note is not None:
        warn(f"the {which} WCS is recorded as {note}", stacklevel=stacklevel + 1)
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
        warn(f"the output records no {which} WCS: {exc}", stacklevel=4)
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


def given_cards(wcs, shape, label, stacklevel):
    """:func:`_recorded_cards` of a WCS the user gave (``label`` names it in errors)."""
    try:
        return _recorded_cards(wcs, shape, "exposure", stacklevel + 1)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


def _opened(source):
    """A plan's mosaic as opened: a zarr array read through the chunk cache, unwrapped."""
    return source.array if isinstance(source, CachedChunks) else source


def _data_wcs(source):
    """The WCS a mosaic carries (a FITS header, a zarr ``attrs["wcs"]``), or ``None``."""
    try:
        return _fits.source_wcs(_opened(source), what="data")
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
    from .._io._files import FitsImage

    source = _opened(source)
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


def unit_kept(record):
    """Whether an output's values are in the mosaic's unit its record holds: ``iscale`` 1
    (scaled values are in a unit tileblot cannot name)."""
    return record.get("params", {}).get("iscale") == 1


def check_resumed(label, held, record, shapes, *, warn_missing=True):
    """What a resume cannot change of how a store describes its image, beyond its plan.

    ``held`` is the record the store keeps, ``record`` this call's; ``shapes``
    the exposure's and the mosaic's. A WCS given now must put the image where
    the recorded one does, and the mosaic's unit must be the same
    (``ValueError``); a WCS the store does not record is not added (a warning,
    unless not ``warn_missing``: a check made again later warns).
    """
    for which, shape in zip(("exposure", "mosaic"), shapes, strict=True):
        then, now = ((r.get("wcs") or {}).get(which) for r in (held, record))
        if now is None:
            continue
        if then is None:
            if not warn_missing:
                continue
            # stacklevel: the caller of blot_to_zarr (here, write_plans, blot_to_zarr).
            warn(f"{label} records no {which} WCS (its job started without one): a resume "
                 "does not add one; export_fits(wcs=...) (tileblot export --wcs-from) writes "
                 "one into the FITS file", stacklevel=4)
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
        warn(f"the pixmap was made for a mosaic WCS of a {size[0]} x {size[1]} image, and "
             f"data is {shape[0]} x {shape[1]}: is it that mosaic?", stacklevel=4)


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
        entry["exposure"] = given_cards(wcs, exposure_shape, "wcs", stacklevel=3)
    elif pair is not None and (
            cards := _known_cards(pair[0], exposure_shape, "exposure")) is not None:
        entry["exposure"] = cards
    found = pair[1] if pair is not None else _data_wcs(plan.data.array)
    mosaic = None if found is None else _known_cards(found, mosaic_shape, "mosaic")
    if mosaic is not None:
        entry["mosaic"] = mosaic
    return entry or None


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
