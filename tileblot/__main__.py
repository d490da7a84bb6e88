"""``python -m tileblot``: the command line (see :mod:`tileblot._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
