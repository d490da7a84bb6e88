"""Coverage: how much of an exposure falls on the mosaic, and the warning when almost none does.

An output pixel *falls on the mosaic* when the kernels interpolate it rather
than write ``fillval`` for it: its pixmap coordinate ``(x, y)`` satisfies
``0 <= x < W`` and ``0 <= y < H`` after the kernels' own rounding (float32
with ``precision="drizzle"``); NaN and infinite coordinates never do. The
count comes from :func:`tileblot._kernels._loop.onimage_bbox`, the scan that
also plans each tile's window, so it costs nothing extra and can never
disagree with the kernels.

An exposure that misses the mosaic (or nearly) gives an image of ``fillval``
that, with the default ``fillval=0``, looks like blank sky; a complete
output store whose fraction is below :data:`COVERAGE_THRESHOLD` warns with
:class:`CoverageWarning`.
"""

from ._quiet import warn

#: Below this fraction of its pixels on the mosaic, an exposure's output warns.
COVERAGE_THRESHOLD = 0.01


class CoverageWarning(UserWarning):
    """An exposure falls (almost) entirely off the mosaic: its output is (nearly) all ``fillval``.

    Emitted by :func:`tileblot.blot_to_zarr` for a store in which fewer than
    1% of the exposure's pixels (:data:`tileblot.COVERAGE_THRESHOLD`) fall on
    the mosaic. Pipelines can silence it or turn it into an error with the
    :mod:`warnings` filters, e.g. ``warnings.simplefilter("error",
    tileblot.CoverageWarning)``.
    """


def percent(fraction):
    """``fraction`` as a short percentage: ``"0.5%"``, ``"0.003%"``, ``"42%"``; never
    ``"100%"`` for less than all (``"99.97%"``)."""
    value = 100.0 * fraction
    if 0 < value < 1:
        return f"{value:.2g}%"
    digits = 3
    while value < 100 and float(f"{value:.{digits}g}") >= 100:
        digits += 1
    return f"{value:.{digits}g}%"


def coverage_problem(label, onimage, pixels, fillval):
    """The warning's text for an output with ``onimage`` of ``pixels`` on the mosaic, or ``None``.

    ``None`` when at least :data:`COVERAGE_THRESHOLD` of the pixels fall on
    the mosaic (or there are no pixels).
    """
    if pixels <= 0 or onimage >= COVERAGE_THRESHOLD * pixels:
        return None
    if onimage == 0:
        return (f"{label}: the exposure does not overlap the mosaic: none of its {pixels} "
                f"pixels falls on it, every pixel is fillval={fillval} (check the pixmap or "
                "the WCSs)")
    return (f"{label}: only {percent(onimage / pixels)} of the exposure's pixels fall on the "
            f"mosaic ({onimage} of {pixels}); the others are fillval={fillval}")


def warn_coverage(label, onimage, pixels, fillval, *, stacklevel=2):
    """Emit a :class:`CoverageWarning` if :func:`coverage_problem` finds one; returns its text."""
    problem = coverage_problem(label, onimage, pixels, fillval)
    if problem is not None:
        warn(problem, CoverageWarning, stacklevel=stacklevel + 1)
    return problem
