"""The command line's inputs: FITS headers and the WCSs that ``--wcs-from`` needs."""

import warnings

from ._parser import UsageError


def _fits_header(spec, what):
    """``(header, shape)`` of the image HDU named by ``file.fits[ext]``."""
    from .._io._sources import FitsImage, open_path

    source = open_path(spec, what=what)
    if not isinstance(source, FitsImage):
        raise UsageError(f"{what}: {spec!r} is not a FITS file")
    return source.header(), source.shape


def _wcs(header, label):
    """An astropy WCS from a header, refusing headers without one."""
    from astropy.wcs import WCS, FITSFixedWarning

    if not any(key in header for key in ("CTYPE1", "CRVAL1", "CD1_1", "PC1_1")):
        raise UsageError(f"{label} has no WCS (no CTYPE/CRVAL/CD keywords in its header)")
    with warnings.catch_warnings():
        # astropy reports each header fix-up it makes (DATE-OBS formats, RADECSYS, ...):
        # noise here, the WCS is still the file's.
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header)
        except Exception as exc:  # wcslib raises many types for a bad header
            raise UsageError(f"{label}: cannot read its WCS: {exc}") from None
    if wcs.pixel_n_dim != 2:
        raise UsageError(f"{label}: its WCS has {wcs.pixel_n_dim} axes, not 2")
    return wcs


def _mosaic_header(data):
    """The mosaic's WCS header: FITS header, or the zarr array's ``wcs`` attribute."""
    from .._io._sources import FitsImage, open_path

    source = open_path(data, what="DATA")
    if isinstance(source, FitsImage):
        return _fits_header(data, "DATA")[0]
    attrs = getattr(source, "attrs", None)
    if attrs is None:
        raise UsageError(f"--wcs-from needs the mosaic's WCS, and DATA {data!r} has none: use a "
                         "FITS file or a zarr array with a 'wcs' attribute")
    cards = attrs.get("wcs")
    if not isinstance(cards, dict):
        raise UsageError(f"--wcs-from needs the mosaic's WCS: the zarr array {data!r} has no "
                         "attribute 'wcs' (a dict of FITS header cards)")
    from astropy.io import fits

    return fits.Header(cards)


def wcs_pixmap(data, spec, chunks):
    from .._pixmaps._wcs import pixmap_from_wcs
    from ._demo import _require

    _require("astropy", "astropy")
    exposure_header, shape = _fits_header(spec, "--wcs-from")
    exposure = _wcs(exposure_header, f"--wcs-from {spec}")
    mosaic = _wcs(_mosaic_header(data), f"DATA {data}")
    return pixmap_from_wcs(exposure, mosaic, shape, chunks=chunks)


