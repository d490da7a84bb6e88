"""What a job asks of a dask client: the client, its workers. Imports neither dask.array
nor distributed (a process that has not imported distributed has no client), so that the
command line's checks can ask without loading them.
"""

import sys


def current_client(client=None):
    """``client``, else this process's default distributed client, else ``None``.

    Never imports ``distributed``: a process that has not imported it has no client.
    """
    if client is not None:
        return client
    if "distributed" not in sys.modules:
        return None
    # Imported, not taken from sys.modules: while another thread imports distributed (the
    # first dask compute of a program does), sys.modules holds it half-initialised, and the
    # import waits for it to finish.
    import distributed

    default_client = getattr(distributed, "default_client", None)
    if default_client is None:  # half-initialised in this very thread: no client yet
        return None
    try:
        return default_client()
    except ValueError:  # distributed's word for "no client"
        return None


def scheduler_workers(client):
    """The scheduler's description of each of ``client``'s workers, all of them.

    distributed from 2025.7 to 2026.6 (its PR 9045, undone by 9308) gives only the
    first 5 by default: asked for all, where it knows how to be asked.
    """
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:  # a distributed before n_workers: it gives them all
        info = client.scheduler_info()
    return info.get("workers", {})


def worker_addresses(client):
    """The addresses of ``client``'s workers now, sorted (empty if none has joined yet).

    An asynchronous client reports none: it only has a cached summary
    without per-worker entries.
    """
    return sorted(scheduler_workers(client))
