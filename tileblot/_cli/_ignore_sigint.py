"""Named first in the preloads of the fork server that starts a local cluster's workers.

The fork server imports its preloads before it saves the SIGINT disposition that it restores
in each process it forks: ignored here, so every worker ignores a terminal's Ctrl-C, which
the command alone handles (see :func:`tileblot._cli._cluster._forkserver_ignoring_sigint`).
The command itself never ignores SIGINT, even for a moment: while it did, a Ctrl-C could be
delivered to one of its other threads and discarded there.
"""

import signal
import sys

# Only in a fork server, started as ``python -c 'from multiprocessing.forkserver import
# main; ...'``: imported anywhere else (documentation tools, a test), it does nothing.
if sys.argv[:1] == ["-c"] and "multiprocessing.forkserver" in sys.modules:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
