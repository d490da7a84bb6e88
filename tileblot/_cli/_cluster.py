"""Where the command line runs: a running scheduler (``--scheduler``) or a local cluster."""

import contextlib
import logging

from .._engine._validation import available_cores
from ._parser import UsageError


@contextlib.contextmanager
def cluster_client(args, echo):
    """A distributed client: on ``--scheduler``, else on a LocalCluster closed on exit."""
    from distributed import Client, LocalCluster

    if args.scheduler:
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"cannot connect to the scheduler at {args.scheduler}: {exc}"
            ) from None
        with client:
            echo(f"cluster: scheduler {args.scheduler}, "
                 f"{len(client.scheduler_info()['workers'])} workers")
            yield client
        return
    workers = args.workers or available_cores()
    threads = args.threads_per_worker or 1
    # Worker processes (the WCS and zarr code hold the GIL). The scheduler's HTTP server gets a
    # free port (":0"): None would still bind 8787 and warn when another cluster holds it.
    # distributed's own chatter (worker start/stop) is silenced.
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      host="127.0.0.1", dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        dashboard = f", dashboard {client.dashboard_link}" if _has_bokeh() else ""
        echo(f"cluster: local, {workers} worker{'s' * (workers > 1)} x {threads} "
             f"thread{'s' * (threads > 1)}{dashboard}")
        yield client


def _has_bokeh():
    import importlib.util

    # Without bokeh the scheduler serves no dashboard, only its health and metrics routes.
    return importlib.util.find_spec("bokeh") is not None


def check_cluster_args(args):
    if args.scheduler and (args.workers or args.threads_per_worker):
        raise UsageError("--scheduler runs on an existing cluster: it excludes --workers and "
                         "--threads-per-worker")


