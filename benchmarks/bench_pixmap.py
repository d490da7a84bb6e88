"""Accuracy and speed of ``pixmap_from_wcs`` with ``stepsize``, against drizzle's ``calc_pixmap``.

``--wcs sip`` (default): a 2048 x 2048 exposure whose astropy WCS has SIP distortion of HST
ACS/WFC-like size (about 35 px at the corners; coefficients of realistic magnitude, not a real
header), rotated by 25 degrees, onto an undistorted TAN mosaic with 0.03"/px.

``--wcs gwcs``: the same with gwcs imaging WCSs as JWST's pipelines build them (a cubic
polynomial distortion of about 35-40 px at the corners, with a fitted inverse, then TAN; the
builder of ``tests/pixmaps/skies.py``), 0.031"/px onto a 0.02"/px TAN mosaic; the reference
is gwcs evaluated on the whole grid (``calc_pixmap`` computes the same).

Times are the best of ``--repeat`` runs on the synchronous scheduler (one thread), so they
measure the work, not the cores.

Run from the repository root::

    python benchmarks/bench_pixmap.py [--wcs sip|gwcs] [--size 2048] [--repeat 3]

Prints a reStructuredText table (docs/pixmaps.rst holds its output).
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from astropy.wcs import WCS, Sip
from drizzle.utils import calc_pixmap

from tileblot import pixmap_from_wcs

STEPSIZES = (1, 4, 8, 16, 32)


def sip_wcs(shape, *, scale, rotation, sip):
    """TAN(-SIP) WCS centred on the grid; ``scale`` in arcsec/px, ``rotation`` in degrees."""
    ny, nx = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"] if sip else ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.1, 2.2]
    wcs.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    theta = math.radians(rotation)
    cd = np.array([[-math.cos(theta), math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    wcs.wcs.cd = cd * scale / 3600.0
    if sip:
        a = np.zeros((5, 5))
        b = np.zeros((5, 5))
        a[2, 0], a[1, 1], a[0, 2] = 8.6e-6, -5.2e-6, 2.2e-6
        a[3, 0], a[1, 2], a[2, 2] = -4e-11, 3e-11, 1e-15
        b[2, 0], b[1, 1], b[0, 2] = -3.1e-6, 7.6e-6, -1.5e-6
        b[0, 3], b[2, 1], b[4, 0] = 5e-11, -2e-11, 2e-15
        wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    wcs.pixel_shape = (nx, ny)
    wcs.wcs.set()
    return wcs


def best_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="exposure side, pixels")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best kept)")
    parser.add_argument("--wcs", choices=("sip", "gwcs"), default="sip", help="kind of WCS")
    args = parser.parse_args()

    shape = (args.size, args.size)
    if args.wcs == "sip":
        exposure = sip_wcs(shape, scale=0.05, rotation=25.0, sip=True)
        mosaic = sip_wcs((4000, 4000), scale=0.03, rotation=0.0, sip=False)
        undistorted = sip_wcs(shape, scale=0.05, rotation=25.0, sip=False)
    else:
        # The tests' JWST-like gwcs builder: the repository's root on the path, so that the
        # benchmark runs as its docs say (python benchmarks/bench_pixmap.py, from the root).
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pixmaps.skies import make_gwcs

        exposure = make_gwcs(shape, rotation=25.0)
        mosaic = make_gwcs((4000, 4000), scale=0.02, distortion=False)
        undistorted = make_gwcs(shape, rotation=25.0, distortion=False)
    mpix = args.size * args.size / 1e6

    peer_time, exact = best_time(lambda: calc_pixmap(exposure, mosaic, shape), args.repeat)
    distortion = np.abs(exact - calc_pixmap(undistorted, mosaic, shape)).max()

    rows = [("calc_pixmap (drizzle)", "", peer_time, 0.0)]
    for stepsize in STEPSIZES:
        pixmap = pixmap_from_wcs(exposure, mosaic, shape, stepsize=stepsize)
        seconds, result = best_time(lambda p=pixmap: p.compute(scheduler="sync"), args.repeat)
        rows.append(("pixmap_from_wcs", str(stepsize), seconds, np.abs(result - exact).max()))

    print(f"{args.size} x {args.size} exposure, {args.wcs} distortion up to {distortion:.1f} px\n")
    header = ("method", "stepsize", "seconds", "Mpix/s", "max abs error (px)")
    widths = (21, 8, 7, 6, 18)
    rule = "  ".join("=" * w for w in widths)
    print(rule)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(rule)
    for method, stepsize, seconds, error in rows:
        cells = (method, stepsize, f"{seconds:.3f}", f"{mpix / seconds:.1f}", f"{error:.2e}")
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    print(rule)


if __name__ == "__main__":
    main()
