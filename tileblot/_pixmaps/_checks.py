"""Argument checks shared by the pixmap builders: each names the argument it rejects."""

import copy
import numbers
import warnings

import numpy as np


def check_shape(shape):
    """``(ny, nx)`` as two positive Python ints, or a ``TypeError``/``ValueError`` naming it."""
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be a pair of positive integers (ny, nx), got {shape!r}"
        ) from None
    if len(items) != 2:
        raise ValueError(f"shape must have 2 entries (ny, nx), got {len(items)}: {items!r}")
    for n in items:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"shape must be a pair of positive integers (ny, nx), got {items!r}")
        if n < 1:
            raise ValueError(f"shape must be positive, got {items!r}")
    return int(items[0]), int(items[1])


def check_wcs(name, wcs, method):
    """A WCS with ``method`` (of the shared Python WCS API) and 2 pixel axes."""
    if not callable(getattr(wcs, method, None)):
        raise TypeError(
            f"{name} must implement the shared Python WCS API (an astropy WCS, a gwcs WCS, ...): "
            f"{type(wcs).__name__} has no {method}()"
        )
    ndim = getattr(wcs, "pixel_n_dim", 2)
    if ndim != 2:
        raise ValueError(f"{name} must have 2 pixel axes, got {ndim}")


def _physical_types(wcs):
    try:
        return list(wcs.world_axis_physical_types)
    except Exception:  # a WCS that cannot say: nothing to compare
        return None


def _celestial(kinds):
    return all(isinstance(k, str) and k.startswith("pos.") for k in kinds)


def _celestial_frame(wcs):
    try:
        classes = wcs.world_axis_object_classes
    except Exception:  # as above
        return None
    for entry in classes.values():
        frame = entry[2].get("frame") if len(entry) > 2 and isinstance(entry[2], dict) else None
        if hasattr(frame, "is_equivalent_frame"):
            return frame
    return None


def check_same_sky(input_wcs, output_wcs):
    """``ValueError`` if the WCSs' world axes are of different kinds; a warning for frames.

    The pixmap passes world values straight from one WCS to the other, as drizzle's
    ``calc_pixmap`` does: an exposure in galactic coordinates on an equatorial mosaic, or
    with its axes in the other order, would land on another part of the sky (and look
    covered). Two equatorial frames (ICRS and FK5, say) differ by milliarcseconds to
    arcminutes, so that is a ``UserWarning``.
    """
    kinds = _physical_types(input_wcs), _physical_types(output_wcs)
    # Compared when both are on the sky (equatorial, galactic, ...), or when only one is: a
    # mosaic WCS without celestial axes (its CTYPE lost) would take degrees for pixels.
    if None not in kinds and (_celestial(kinds[0]) or _celestial(kinds[1])) and (
            kinds[0] != kinds[1]):
        raise ValueError(
            f"the exposure's WCS has world axes {kinds[0]} and the mosaic's {kinds[1]}: "
            "world coordinates pass unconverted from one to the other (as in drizzle's "
            "calc_pixmap), so both must use the same celestial frame and axis order"
        )
    frames = _celestial_frame(input_wcs), _celestial_frame(output_wcs)
    if None not in frames and not frames[0].is_equivalent_frame(frames[1]):
        warnings.warn(
            f"the exposure's WCS is in {frames[0]} and the mosaic's in {frames[1]}: world "
            "coordinates pass unconverted from one to the other (as in drizzle's calc_pixmap)",
            UserWarning, stacklevel=3,
        )


#: Pixels by which two WCSs given for one image may disagree (one an approximation of the
#: other, a distortion table left out) before they are taken for two places on the sky. Under
#: one pixel, so that the commonest slip, CRPIX off by one, is caught.
SKY_TOLERANCE = 0.5


def _apart(first, second):
    """Distances between two lists of positions from ``pixel_to_world``: angular (degrees,
    frames converted) for sky positions, else between the world values as they are."""
    if hasattr(first, "separation") and hasattr(second, "separation"):
        return np.asarray(first.separation(second).deg, dtype=np.float64)
    if hasattr(first, "separation") or hasattr(second, "separation"):
        return np.full(np.shape(first), np.inf)  # the sky against something else
    first, second = (np.array([getattr(w, "value", w) for w in np.atleast_1d(world)],
                              dtype=np.float64) for world in (first, second))
    return np.sqrt(((first - second) ** 2).sum(axis=0))


def wcs_offset(first, second, shape):
    """How far apart two WCSs put one image, in pixels of ``first``.

    Both map the pixels of a 9 x 9 grid over ``shape`` to the sky, where
    their separations are measured (sky frames converted: a galactic WCS of
    the same image agrees with an equatorial one), divided by ``first``'s
    scale there. Only forward transforms are used, so a WCS without an
    inverse, or undefined beyond a bounding box, compares where it is
    defined. ``None`` if either cannot say.
    """
    ny, nx = shape
    y, x = np.mgrid[0 : ny - 1 : 9j, 0 : nx - 1 : 9j]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            here = first.pixel_to_world(x.ravel(), y.ravel())
            apart = _apart(here, second.pixel_to_world(x.ravel(), y.ravel()))
            scale = _apart(here, first.pixel_to_world(x.ravel() + 1, y.ravel()))
    except Exception:  # the WCS APIs raise many types (no frame conversion, ...)
        return None
    pixels = apart / scale
    known = np.isfinite(scale) & (scale > 0) & ~np.isnan(pixels)
    return float(np.max(pixels[known])) if known.any() else None


def check_same_place(first, second, shape, what):
    """``ValueError`` if two WCSs of one ``shape`` image put it more than :data:`SKY_TOLERANCE`
    pixels apart on the sky (``what``: the message's start, naming the two)."""
    offset = wcs_offset(first, second, shape)
    if offset is not None and offset > SKY_TOLERANCE:
        size = "on different skies" if np.isinf(offset) else f"{offset:.3g} pixels apart"
        raise ValueError(f"{what} put the image {size}: they describe different places "
                         "(another image, another frame or axis order)")


def check_stepsize(stepsize):
    """``stepsize`` as a positive int (``None`` means 1: every pixel)."""
    if stepsize is None:
        return 1
    if isinstance(stepsize, bool) or not isinstance(stepsize, numbers.Integral):
        raise TypeError(f"stepsize must be a positive integer or None, got {stepsize!r}")
    if stepsize < 1:
        raise ValueError(f"stepsize must be at least 1, got {stepsize}")
    return int(stepsize)


def check_float_dtype(dtype):
    """float32 or float64, the dtypes a pixmap may have."""
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def real_array(name, value, what):
    """``value`` (``what``: "a pair (x, y)", ...) as a float64 array, or an error naming it.

    numpy alone would drop a complex value's imaginary part with a warning, and
    name neither the argument nor what it should be for text or huge integers.
    """
    try:
        array = np.asarray(value)
    except ValueError:  # ragged
        raise ValueError(f"{name} must be {what} of numbers, got {value!r}") from None
    if array.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex values {value!r}")
    if array.dtype.kind not in "biufO":
        raise TypeError(f"{name} must be {what} of numbers, got {value!r}")
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be {what} of finite numbers, got {value!r}") from None
    return array


def check_pair(name, value):
    """A pair of finite floats ``(x, y)`` as a float64 array."""
    pair = real_array(name, value, "a pair (x, y)")
    if pair.shape != (2,) or not np.isfinite(pair).all():
        raise ValueError(f"{name} must be a pair of finite numbers (x, y), got {value!r}")
    return pair


def copy_wcs(name, wcs):
    """A deep copy of ``wcs``, or a ``TypeError`` saying why one is needed."""
    try:
        return copy.deepcopy(wcs)
    except Exception as exc:
        raise TypeError(
            f"{name} must support copy.deepcopy (each task works on its own copy, since WCS "
            f"objects are not thread-safe): {type(exc).__name__}: {exc}"
        ) from exc
