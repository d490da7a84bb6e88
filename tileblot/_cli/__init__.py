"""The command line (``tileblot blot | info | demo``): the top layer, over the public API."""

from ._main import main

__all__ = ["main"]
