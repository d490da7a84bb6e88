"""The command line (``tileblot blot | info | export | warmup | demo``): the top layer."""


def main(argv=None):
    """Run the ``tileblot`` command line; returns its exit status (see :mod:`._main`).

    The command line's modules load inside, so that a Ctrl-C while they load is the same one
    line and exit status 130 as a Ctrl-C at any later moment.
    """
    try:
        from ._main import main as run
    except KeyboardInterrupt:
        import sys

        print("tileblot: interrupted", file=sys.stderr)
        return 130
    return run(argv)


__all__ = ["main"]
