"""The command line's inputs: the pixmap that ``--wcs-from`` asks for.

Reading FITS headers and WCSs is the library's (``tileblot._io._fits``); this
only names the command line's arguments in its errors.
"""


def wcs_pixmap(data, spec, chunks, stepsize=1, *, storage_options=None):
    """The lazy pixmap from ``--wcs-from``'s WCS to the mosaic's (DATA's header or attrs)."""
    from .._io._fits import read_wcs, source_wcs
    from .._io._sources import open_path
    from .._pixmaps._wcs import pixmap_from_wcs

    exposure, shape = read_wcs(spec, what="--wcs-from", storage_options=storage_options)
    mosaic = source_wcs(open_path(data, what="DATA", storage_options=storage_options),
                        what=f"--wcs-from needs the mosaic's WCS: DATA {data!r}")
    return pixmap_from_wcs(exposure, mosaic, shape, chunks=chunks, stepsize=stepsize)
