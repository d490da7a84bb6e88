"""drizzle 3.0's ``blot_image`` as the oracle, and the rules for comparing with it."""

import numpy as np
from drizzle.resample import blot_image as _drizzle_blot_image

from tileblot import INTERPOLATORS

#: drizzle 3.0's names where ours differ (its "lan3"/"lan5" warn DeprecationWarning).
DRIZZLE_NAMES = {"lan3": "lanczos3", "lan5": "lanczos5"}

#: Interpolators drizzle 3.0 has (it removed sinc).
ORACLE_INTERPOLATORS = tuple(name for name in INTERPOLATORS if name != "sinc")

#: Relative agreement required, times max|data| * |iscale|.
RELATIVE_TOLERANCE = 4e-6

#: A coordinate far off the image, used where drizzle is not defined.
OFF_IMAGE = -10.0


def drizzle_blot(data, pixmap, interp, **kwargs):
    """drizzle 3.0's blot on native float32 data and a float64 pixmap."""
    return _drizzle_blot_image(
        np.ascontiguousarray(data, dtype=np.float32),
        np.ascontiguousarray(pixmap, dtype=np.float64),
        interp=DRIZZLE_NAMES.get(interp, interp),
        **kwargs,
    )


def tolerance(data, iscale=1.0):
    """Largest allowed ``|tileblot - drizzle|``."""
    return RELATIVE_TOLERANCE * float(np.max(np.abs(data))) * abs(iscale)


def drizzle_undefined(pixmap, shape, interp):
    """Mask of pixels where drizzle reads outside its own arrays (its output is garbage).

    nearest: ``x`` rounds to ``W`` or ``y`` rounds to ``H``; poly3: ``int(y) == H - 1``.
    Coordinates are rounded to float32 first, as drizzle does.
    """
    height, width = shape
    with np.errstate(invalid="ignore"):
        x = pixmap[..., 0].astype(np.float32).astype(np.float64)
        y = pixmap[..., 1].astype(np.float32).astype(np.float64)
        on = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        if interp == "nearest":
            return on & ((np.floor(x + 0.5) >= width) | (np.floor(y + 0.5) >= height))
        if interp == "poly3":
            return on & (np.floor(y) == height - 1)
    return np.zeros(pixmap.shape[:2], dtype=bool)


def defined_for_drizzle(pixmap, shape, interp):
    """A copy of ``pixmap`` with the coordinates drizzle cannot handle moved off the image."""
    pixmap = np.array(pixmap, dtype=np.float64)
    pixmap[drizzle_undefined(pixmap, shape, interp)] = OFF_IMAGE
    return pixmap


def assert_matches_drizzle(ours, data, pixmap, interp, fillval=0.0, iscale=1.0):
    """``ours`` equals drizzle's blot of the same input (exactly for nearest)."""
    theirs = drizzle_blot(data, pixmap, interp, fillval=fillval, iscale=iscale)
    if interp == "nearest":
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance(data, iscale))
