"""Argument checks shared by the pixmap builders: each names the argument it rejects."""

import copy
import numbers

import numpy as np

from .._engine._quiet import warn, warnings_ignored


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
        warn(
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


def _positions(wcs, x, y, frame):
    """World positions of pixels ``(x, y)``: for a sky WCS, ``(3, n)`` unit vectors in
    ``frame`` (the first WCS's; ``None``: its own), else its ``(2, n)`` world values."""
    if frame is False:
        return np.array(wcs.pixel_to_world_values(x, y), dtype=np.float64)
    sky = wcs.pixel_to_world(x, y)
    if frame is not None and not sky.frame.is_equivalent_frame(frame):
        sky = sky.transform_to(frame)
    return np.array(sky.cartesian.xyz.value, dtype=np.float64)


def _plane(centre):
    """An orthonormal basis ``(u, v)`` of the plane tangent to the sky at each of ``centre``'s
    unit vectors: any basis serves (offsets are solved for), so the poles need no care."""
    axis = np.where(np.abs(centre[2]) < 0.9, [[0.0], [0.0], [1.0]], [[1.0], [0.0], [0.0]])
    u = np.cross(centre, axis, axis=0)
    u /= np.linalg.norm(u, axis=0)
    return u, np.cross(centre, u, axis=0)


def _in_plane(centre, basis, points):
    """``(2, n)`` coordinates of ``points`` (unit vectors) in the gnomonic plane at ``centre``;
    world values (``basis`` ``None``) as offsets from ``centre``."""
    if basis is None:
        return points - centre
    scaled = points / (points * centre).sum(axis=0)
    return np.array([(scaled * basis[0]).sum(axis=0), (scaled * basis[1]).sum(axis=0)])


def _grid(wcs, shape, count=9):
    """``(x, y)`` of a ``count`` x ``count`` grid over the image, or over the part of it a
    WCS's bounding box holds (where a gwcs is defined)."""
    ny, nx = shape
    (x0, x1), (y0, y1) = (-0.5, nx - 0.5), (-0.5, ny - 0.5)
    box = getattr(wcs, "bounding_box", None)
    if box is not None:
        try:
            (bx0, bx1), (by0, by1) = (tuple(float(v) for v in interval)
                                      for interval in box.bounding_box(order="F"))
        except Exception:  # a bounding box of another form: the whole image
            pass
        else:
            x0, x1, y0, y1 = max(x0, bx0), min(x1, bx1), max(y0, by0), min(y1, by1)
    # Half a pixel inside the edges: steps of a quarter pixel either side stay inside.
    y, x = np.mgrid[y0 + 0.5 : y1 - 0.5 : count * 1j, x0 + 0.5 : x1 - 0.5 : count * 1j]
    return x.ravel(), y.ravel()


def wcs_offset(first, second, shape):
    """How far apart two WCSs put one image, in pixels of ``first``.

    Both map a 9 x 9 grid of pixels (over the image, or the part of it that
    ``first``'s bounding box holds) to the sky, converted into ``first``'s
    frame (or, for WCSs that are not on the sky, to their world values).
    Each offset is measured in the plane tangent to the sky at the point and
    turned into pixels with ``first``'s Jacobian there (central differences
    of a quarter pixel), so rectangular pixels count right and the poles need
    no care. Only forward transforms are used: a WCS without an inverse
    compares where it is defined. ``None`` if either cannot say.
    """
    kinds = _physical_types(first), _physical_types(second)
    sky = None not in kinds and _celestial(kinds[0]) and _celestial(kinds[1])
    x, y = _grid(first, shape)
    try:
        with warnings_ignored(), np.errstate(all="ignore"):
            frame = first.pixel_to_world(x[:1], y[:1]).frame if sky else False
            here = _positions(first, x, y, frame)
            basis = _plane(here) if sky else None
            apart = _in_plane(here, basis, _positions(second, x, y, frame))
            steps = [(_in_plane(here, basis, _positions(first, x + dx, y + dy, frame))
                      - _in_plane(here, basis, _positions(first, x - dx, y - dy, frame))) * 2.0
                     for dx, dy in ((0.25, 0.0), (0.0, 0.25))]
    except Exception:  # the WCS APIs raise many types (a frame without a conversion, ...)
        return None
    jacobian = np.stack(steps, axis=-1).transpose(1, 0, 2)  # (point, world, pixel)
    determinant = np.linalg.det(np.nan_to_num(jacobian))
    scale = np.abs(jacobian).max(axis=(1, 2))
    known = (np.isfinite(jacobian).all(axis=(1, 2)) & ~np.isnan(apart).any(axis=0)
             & (np.abs(determinant) > 1e-9 * scale**2))
    if not known.any():
        return None
    pixels = np.linalg.solve(jacobian[known], apart[:, known].T[..., None])[..., 0]
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
        frames = _celestial_frame(first), _celestial_frame(second)
        differ = (f" (one is in {frames[0].name.upper()}, the other in "
                  f"{frames[1].name.upper()})" if None not in frames
                  and not frames[0].is_equivalent_frame(frames[1]) else "")
        raise ValueError(f"{what} put the image {size}{differ}: they describe different "
                         "places (another image, another frame or axis order)")


#: The largest ``stepsize``: far wider than any exposure.
STEPSIZE_MAX = 2**31 - 1


def check_stepsize(stepsize):
    """``stepsize`` as a positive int (``None`` means 1: every pixel)."""
    if stepsize is None:
        return 1
    if isinstance(stepsize, bool) or not isinstance(stepsize, numbers.Integral):
        raise TypeError(f"stepsize must be a positive integer or None, got {stepsize!r}")
    if stepsize < 1:
        raise ValueError(f"stepsize must be at least 1, got {stepsize}")
    if stepsize > STEPSIZE_MAX:  # numpy's int64 grid arithmetic stops there
        raise ValueError(f"stepsize must be at most {STEPSIZE_MAX}, got {stepsize}")
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
    """A deep copy of ``wcs``, or a ``TypeError`` saying why one is needed.

    A ``ValueError`` for a WCS that its library finds invalid as it is copied
    (astropy's copy runs wcslib's checks: a singular CD matrix, ``|CRVAL2| > 90``),
    as drizzle's ``calc_pixmap`` raises it (wcslib's errors are ValueErrors).
    """
    try:
        return copy.deepcopy(wcs)
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid WCS: {type(exc).__name__}: "
                         f"{' '.join(str(exc).split())}") from exc
    except Exception as exc:
        raise TypeError(
            f"{name} must support copy.deepcopy (each task works on its own copy, since WCS "
            f"objects are not thread-safe): {type(exc).__name__}: {exc}"
        ) from exc
