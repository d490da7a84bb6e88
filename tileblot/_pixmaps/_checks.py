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


#: Sky axes whose frames astropy converts reliably from a WCS: a WCS on these may be compared
#: with one in another of them (ecliptic and other frames come out of a WCS mislabelled).
_CONVERTIBLE = ("pos.eq.", "pos.galactic.")


def _lon_lat(kinds):
    """Indices of the longitude and latitude among a celestial WCS's world axes."""
    lon = next(k for k, kind in enumerate(kinds) if kind.endswith((".ra", ".lon")))
    return lon, 1 - lon


def _positions(wcs, x, y, kinds, frames):
    """World positions of pixels ``(x, y)``: sky coordinates in the WCS's frame when
    ``frames``, else its world values (sky values as ICRS numbers, so that the offsets
    between two WCSs of one frame are angles), else a 2 x n array of values."""
    if frames:
        return wcs.pixel_to_world(x, y)
    values = np.array(wcs.pixel_to_world_values(x, y), dtype=np.float64)
    if not _celestial(kinds):
        return values
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    lon, lat = _lon_lat(kinds)
    return SkyCoord(values[lon] * u.deg, values[lat] * u.deg, frame="icrs")


def _offsets(origin, to):
    """``(2, n)`` offsets from ``origin`` to ``to`` (angles in degrees for the sky)."""
    if hasattr(origin, "spherical_offsets_to"):
        east, north = origin.spherical_offsets_to(to.transform_to(origin.frame))
        return np.array([east.deg, north.deg])
    return to - origin


def wcs_offset(first, second, shape):
    """How far apart two WCSs put one image, in pixels of ``first``.

    Both map the pixels of a 9 x 9 grid over ``shape`` to world positions;
    each offset between them is turned into pixels with ``first``'s local
    Jacobian (central differences), so rectangular and skewed pixels count
    right. World values of two WCSs of one kind are compared as numbers, as
    a pixmap passes them; equatorial and galactic WCSs are compared with the
    frames converted. Only forward transforms are used: a WCS without an
    inverse, or undefined beyond a bounding box, compares where it is
    defined. ``None`` if either cannot say.
    """
    kinds = _physical_types(first), _physical_types(second)
    frames = None not in kinds and kinds[0] != kinds[1]
    ny, nx = shape
    y, x = (grid.ravel() for grid in np.mgrid[0 : ny - 1 : 9j, 0 : nx - 1 : 9j])
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            here = _positions(first, x, y, kinds[0], frames)
            apart = _offsets(here, _positions(second, x, y, kinds[1], frames))
            # Steps of a pixel, a quarter pixel either side: inside a bounding box at its edge.
            steps = [_offsets(_positions(first, x - dx, y - dy, kinds[0], frames),
                              _positions(first, x + dx, y + dy, kinds[0], frames)) * 2.0
                     for dx, dy in ((0.25, 0.0), (0.0, 0.25))]
    except Exception:  # the WCS APIs raise many types (a frame without a conversion, ...)
        return None
    jacobian = np.stack([steps[0], steps[1]], axis=-1).transpose(1, 0, 2)  # (n, world, pixel)
    known = np.isfinite(jacobian).all(axis=(1, 2)) & ~np.isnan(apart).any(axis=0)
    if not known.any():
        return None
    try:
        pixels = np.linalg.solve(jacobian[known], apart[:, known].T[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a singular WCS: no pixel scale to measure in
        return None
    distance = np.hypot(pixels[:, 0], pixels[:, 1])
    return float(np.max(np.where(np.isnan(distance), np.inf, distance)))


def check_same_place(first, second, shape, what):
    """``ValueError`` if two WCSs of one ``shape`` image put it more than :data:`SKY_TOLERANCE`
    pixels apart, or have world axes of kinds that cannot be compared (``what``: the message's
    start, naming the two)."""
    kinds = _physical_types(first), _physical_types(second)
    if None not in kinds and kinds[0] != kinds[1] and not all(
            isinstance(kind, str) and kind.startswith(_CONVERTIBLE)
            for kind in (*kinds[0], *kinds[1])):
        raise ValueError(f"{what} have world axes {kinds[0]} and {kinds[1]}: they describe "
                         "different things, or frames tileblot cannot compare (it converts "
                         "between equatorial and galactic ones only)")
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
