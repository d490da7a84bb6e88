"""The error a task raises when an input exists but its values cannot be read."""

import struct
import zlib


class DamagedInputError(OSError):
    """An input whose bytes cannot be decoded where a task reads them.

    A damaged zarr chunk (truncated, garbled, failing its checksum) or a FITS
    file shorter than its header says. The message names the input and the
    place (the chunk, or the rows); the command line prints it as one line
    and exits 1. A subclass of ``OSError``, as other failures to read a file
    are; those of the file system or the store themselves (a file gone, too
    many files open, a store out of reach) are raised as they are.
    """


class DamagedOutputError(DamagedInputError, ValueError):
    """A tileblot output store whose image chunks do not decode where an export reads them.

    A :class:`DamagedInputError`, so that the command line exits 1 (a damaged
    store, not a usage error); a ``ValueError`` too, as it was raised before.
    """


def damaged(what, where, exc):
    """The :class:`DamagedInputError` for ``exc``, raised reading ``where`` of input ``what``.

    Raise it outside the ``except`` clause that caught ``exc``: a scheduler
    pickles a task's error back to the client with its context, and the
    exceptions of some codecs and of zarr do not unpickle.
    """
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return DamagedInputError(f"{what}: {where} cannot be read ({type(exc).__name__}: {reason}): "
                             "the input is damaged there, or was changed while the job ran")


#: What codecs and zarr raise for bytes that do not decode (truncated, garbled, failing a
#: checksum): blosc and zstd a ``RuntimeError``, the checksum and the array's shape a
#: ``ValueError``, a short buffer an ``EOFError``, ``struct.error`` or ``zlib.error``, numpy
#: a ``TypeError`` or ``IndexError``.
DECODE_ERRORS = (ValueError, RuntimeError, TypeError, IndexError, EOFError, struct.error,
                 zlib.error)


def undecodable(exc):
    """Whether ``exc``, raised reading a stored chunk, says that the chunk's bytes do not decode.

    Only :data:`DECODE_ERRORS` do. A failure of the store, of the network or of
    the machine says nothing of the chunk: an ``OSError`` (a file gone, too
    many files open, a timeout), an object store's transport error (botocore's
    ``EndpointConnectionError``, aiohttp's ``ServerDisconnectedError``, which
    s3fs passes on as they are) or a ``MemoryError`` is not damage, and every
    reader raises it as it is, so that no healthy tile is ever named damaged,
    or redone, for a read that failed once.
    """
    return isinstance(exc, DECODE_ERRORS) and not isinstance(exc, OSError)
