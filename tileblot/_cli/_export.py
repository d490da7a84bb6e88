"""``tileblot export OUT.zarr OUT.fits``: an output store as a FITS image with its WCS."""

import argparse

EXPORT_HELP = """\
Write the image of a tileblot output store as a FITS file (float32, primary HDU), with the
exposure's WCS in its header when the store records one (outputs of 'tileblot blot
--wcs-from' do) or when --wcs-from gives it. The image is streamed one row of tiles at a
time: memory holds one band, never the image. A FILE ending in .fits.gz is written
gzip-compressed, streamed the same way.
"""


def add_export_parser(commands):
    """Add the ``export`` subcommand to ``commands`` (an argparse subparsers action)."""
    export = commands.add_parser(
        "export", help="write an output store as a FITS image with its WCS",
        usage="tileblot export [options] OUT.zarr FILE.fits", description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("store", metavar="OUT.zarr", help="a store written by 'tileblot blot'")
    export.add_argument("path", metavar="FILE.fits", help="the FITS file to write")
    export.add_argument("--wcs-from", metavar="EXPOSURE.fits",
                        help="take the WCS from this FITS image (default: the store's record)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    export.add_argument("--allow-incomplete", action="store_true",
                        help="export an unfinished job (missing tiles hold the fill value)")
    export.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return export


def cmd_export(args, echo):
    """Run ``tileblot export``; returns the exit status. Bad input raises ``ValueError``."""
    from .._api._description import check_wcs_size
    from .._api._output import check_export, export_cards, open_output, write_export
    from .._io._fits import read_wcs
    from .._io._urls import check_options_apply, exists, output_store

    storage = check_options_apply(dict(args.storage_options), args.store, args.wcs_from)
    # As info does: a URL is probed first (quickly, and named in any refusal), never left to
    # the filesystem's own retries (a closed port took 12 s, a silent endpoint hung).
    output_store(args.store, storage_options=storage, what="OUT.zarr")
    # As info says it: nothing there, or something that is not an output (open_output's).
    if not exists(args.store, storage_options=storage, what="OUT.zarr"):
        raise ValueError(f"no such output store {args.store!r}")
    wcs, size = (read_wcs(args.wcs_from, what="--wcs-from", storage_options=storage)
                 if args.wcs_from else (None, None))
    output = open_output(args.store, storage_options=storage)
    cards = None
    if wcs is not None:
        # export_fits's steps, with the WCS named as given (and fitted and checked once).
        check_wcs_size({"NAXIS2": size[0], "NAXIS1": size[1]}, output.image.shape,
                       label=f"--wcs-from {args.wcs_from}")
        cards = export_cards(wcs, output, label=f"--wcs-from {args.wcs_from}")
    check_export(output, args.path, allow_incomplete=args.allow_incomplete)
    path = write_export(output, args.path, cards, overwrite=args.overwrite)
    source = ("from " + args.wcs_from if args.wcs_from
              else "recorded" if (output.record.get("wcs") or {}).get("exposure") else None)
    shape = " x ".join(str(n) for n in output.image.shape)
    echo(f"wrote {path}: {shape} float32, "
         + (f"WCS {source}" if source else "no WCS (the store records none; give --wcs-from)"))
    return 0
