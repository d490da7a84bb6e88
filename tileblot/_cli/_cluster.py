"""Where the command line runs: a running scheduler (``--scheduler``) or a local cluster.

Two guarantees the rest of the command line relies on:

- *A scheduler address that is not a dask scheduler fails fast, in one line.* distributed's
  client waits for the peer's handshake without a timeout, so an HTTP port (the dashboard's
  8787, a common slip) or a listener that never answers hangs it for good, and a peer that
  sends garbage makes it allocate exabytes. :func:`probe_scheduler` asks the address for its
  identity first, under one deadline, and names what it found.
- *Ctrl-C is one line and exit status 130, at any moment.* A terminal's Ctrl-C sends SIGINT
  to the whole foreground process group: the command and the local cluster's worker
  processes, which each printed a traceback (from their imports at start-up, from their event
  loops later). The workers are therefore forked by a fork server that ignores SIGINT
  (:func:`_forkserver_ignoring_sigint`), which they inherit; their nannies stop them when the
  command closes its cluster. While the client and the cluster close after an interrupt,
  logging is off (:func:`quiet_interrupt`): distributed reports every cancelled task; and
  the workers drop the one report of a heartbeat that found the closing scheduler gone
  (:class:`_DropLostScheduler`), which otherwise raced the one line.
"""

import asyncio
import contextlib
import logging
import socket
import sys

from .._engine._clients import scheduler_workers
from .._engine._validation import available_cores
from ._interrupt import seen as interrupt_seen
from ._parser import UsageError

#: The protocols a scheduler in another process can be reached by (distributed's comms).
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")

#: Seconds to wait for a scheduler's answer (``--timeout``).
CONNECT_TIMEOUT = 10.0


def check_cluster_args(args):
    """Refuse cluster options that contradict each other (before anything starts)."""
    if args.scheduler is not None and not args.scheduler.strip():
        # A batch script's --scheduler "$SCHED" with SCHED unset: never the login node.
        raise UsageError("--scheduler is empty: give the scheduler's address (tcp://HOST:PORT), "
                         "or leave the option out to start a local cluster")
    if args.scheduler and (args.workers or args.threads_per_worker):
        raise UsageError("--scheduler runs on an existing cluster: it excludes --workers and "
                         "--threads-per-worker")
    if args.scheduler:
        from distributed.comm.addressing import parse_address

        try:
            scheme, _ = parse_address(args.scheduler)
            location = _tcp_location(args.scheduler)
        except ValueError as exc:
            raise UsageError(f"--scheduler {args.scheduler!r}: {exc}") from None
        if scheme not in SCHEMES:
            raise UsageError(f"--scheduler {args.scheduler!r}: a dask scheduler's address is "
                             "tcp://HOST:PORT (or "
                             + ", ".join(f"{s}://" for s in SCHEMES[1:]) + f"), not {scheme}://")
        if location is not None and not 0 < location[1] < 65536:
            raise UsageError(f"--scheduler {args.scheduler!r}: port {location[1]} is not a "
                             "TCP port (1 to 65535)")


# --------------------------------------------------------------------------- scheduler probe


def _tcp_location(address):
    """``(host, port)`` of a ``tcp://`` or ``tls://`` address, else ``None``."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        return None
    try:
        return parse_host_port(location, default_port=8786)
    except ValueError:  # distributed says only "invalid literal for int()"
        raise ValueError(f"the port in {location!r} is not a number (e.g. "
                         "tcp://host:8786)") from None


async def _identity(address, timeout):
    from distributed.comm import connect
    from distributed.security import Security

    comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _speaks_http(host, port, timeout):
    """Whether ``host:port`` answers an HTTP request (asked only after the dask probe failed)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"GET /health HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False


def probe_scheduler(address, timeout=CONNECT_TIMEOUT):
    """Raise :class:`UsageError` unless a dask scheduler answers at ``address`` in ``timeout`` s."""
    where = f"the scheduler at {address}"
    tcp = _tcp_location(address)
    if tcp is not None:
        # distributed retries a refused connection until its timeout; nothing listening is
        # knowable at once.
        try:
            socket.create_connection(tcp, timeout=timeout).close()
        except ConnectionRefusedError:
            raise UsageError(f"cannot connect to {where}: nothing is listening on port "
                             f"{tcp[1]} of {tcp[0]} (is the scheduler running?)") from None
        except socket.gaierror as exc:
            raise UsageError(f"cannot connect to {where}: unknown host {tcp[0]!r} "
                             f"({exc.strerror})") from None
        except TimeoutError:
            raise UsageError(f"cannot connect to {where}: no connection within {timeout:g} s "
                             "(a firewall, or the wrong host?)") from None
        except OSError as exc:
            raise UsageError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    # Three quarters of the time for dask's answer, the rest to tell an HTTP server.
    ask = 0.75 * timeout
    try:
        reply = asyncio.run(asyncio.wait_for(_identity(address, ask), ask))
    except TimeoutError:
        problem = f"no answer within {timeout:g} s"
    except Exception as exc:  # a garbage peer raises anything, MemoryError included
        # Over tcp something listens (checked above): it answered in another protocol.
        problem = (f"its answer is not dask's protocol ({type(exc).__name__})" if tcp
                   else f"no dask scheduler answered ({type(exc).__name__}: {exc})")
    else:
        if isinstance(reply, dict) and reply.get("type") == "Scheduler":
            return
        problem = "it answers, but not as a dask scheduler"
    if tcp is not None and _speaks_http(*tcp, timeout - ask):
        problem = "it is an HTTP server (a dashboard's port? a scheduler's is usually 8786)"
    raise UsageError(f"cannot connect to {where}: {problem}")


# --------------------------------------------------------------------------- interruption


@contextlib.contextmanager
def quiet_interrupt():
    """On ``KeyboardInterrupt``, silence logging (distributed reports every cancelled task).

    Entered inside the client's and the cluster's ``with``: what their exits do next
    (closing them) then prints nothing. The interrupt propagates, for the one-line message.
    """
    try:
        yield
    except KeyboardInterrupt:
        interrupt_seen()
        logging.disable(logging.CRITICAL)
        raise


class _DropCancelled(logging.Filter):
    """Drops the reports of distributed's coroutines cancelled as a cluster closes.

    A progress bar's feed on the scheduler sleeps between updates; when the job ends
    and the command closes its own cluster, the feed is cancelled mid-sleep and
    distributed logs that as an ERROR with a traceback. It is the shutdown, not a
    failure, and the job has been checked by then.
    """

    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


class _DropLostConnection(_DropCancelled):
    """Drops the client's reports of a scheduler gone mid-job: its reconnection attempt
    cancelled as the command closes the client, or given up. The command says it in one
    line (with what to do)."""

    def filter(self, record):
        return super().filter(record) and not record.getMessage().startswith(
            "Failed to reconnect to scheduler")


class _DropLostScheduler(logging.Filter):
    """Drops a worker's report that its heartbeat found the scheduler gone.

    The command's own cluster has its scheduler in the command's process: it goes away
    only when the command closes the cluster (at the end, or after Ctrl-C), and a worker
    whose heartbeat falls in that instant, before its nanny stops it, logged an ERROR
    with a traceback on the terminal. It is the shutdown, not a failure.
    """

    MESSAGE = "Failed to communicate with scheduler during heartbeat."

    def filter(self, record):
        return record.getMessage() != self.MESSAGE


class _DropComputeFailed(logging.Filter):
    """Drops a worker's report of a task that raised ("Compute Failed", with its traceback).

    The error reaches the command, which says it in one line; in the command's own
    cluster the worker's report was 60 lines of traceback on the terminal before it.
    """

    def filter(self, record):
        return not record.getMessage().startswith("Compute Failed")


class _DropPeerGone(logging.Filter):
    """Drops a worker's reports that a peer closed while one fetched a task's result from the
    other (the side that served it, and the side that fetched it).

    Seen as the command's own cluster closes (a hang-up): its workers stop at once, one in
    the middle of another's fetch, which logged an ERROR with two tracebacks on the
    terminal. A worker lost in a running job is distributed's to recover from (it computes
    the result again), and the job's end checks the store itself.
    """

    MESSAGES = ("failed during get data with", "Worker stream died during communication")

    def filter(self, record):
        return not record.getMessage().startswith(self.MESSAGES)


def _quiet_worker_shutdown():
    """A worker plugin that installs :class:`_DropLostScheduler`, :class:`_DropComputeFailed`
    and :class:`_DropPeerGone` on each worker's logger, in the worker's own process (built
    here: distributed is imported only when a cluster is)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorkerShutdown(WorkerPlugin):
        name = "tileblot-quiet-worker-shutdown"

        def setup(self, worker):
            for drop in (_DropLostScheduler(), _DropComputeFailed(), _DropPeerGone()):
                logging.getLogger("distributed.worker").addFilter(drop)

    return QuietWorkerShutdown()


@contextlib.contextmanager
def _dropping(name, drop):
    """While the block runs, the logger ``name`` drops what the filter ``drop`` drops."""
    logger = logging.getLogger(name)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _quiet_client():
    """While the command's client runs and closes, a scheduler lost mid-job is not reported
    (:class:`_DropLostConnection`): the command says it in one line."""
    return _dropping("distributed.client", _DropLostConnection())


def _quiet_shutdown():
    """While the command's own cluster runs and closes, its scheduler's cancellations are quiet."""
    return _dropping("distributed.scheduler", _DropCancelled())


# --------------------------------------------------------------------------- clients


@contextlib.contextmanager
def cluster_client(args, echo):
    """A distributed client: on ``--scheduler``, else on a LocalCluster closed on exit."""
    with quiet_interrupt():
        yield from (_remote_client if args.scheduler else _local_client)(args, echo)


def _dashboard(client):
    # Without bokeh the scheduler serves no dashboard, only its health and metrics routes.
    import importlib.util

    if importlib.util.find_spec("bokeh") is None:
        return ""
    return f", dashboard {client.dashboard_link}"


def _remote_client(args, echo):
    from distributed import Client

    timeout = getattr(args, "timeout", CONNECT_TIMEOUT)
    probe_scheduler(args.scheduler, timeout)
    try:
        client = Client(args.scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot connect to the scheduler at {args.scheduler}: {exc}") from None
    with _quiet_client(), client, quiet_interrupt():
        workers = len(scheduler_workers(client))
        if not workers:
            workers = _first_worker(client, args.scheduler, timeout, echo)
        echo(f"cluster: scheduler {args.scheduler}, {workers} worker{'s' * (workers != 1)}"
             f"{_dashboard(client)}")
        try:
            yield client
        except Exception as exc:
            if getattr(exc, "reason", None) != "scheduler-connection-lost":
                raise
            # distributed's words name a task key and end "re-run your work".
            then = ("run the demo again" if args.command == "demo" else
                    "the tiles written so far are kept; finish the job with --resume")
            raise RuntimeError(
                f"lost the connection to the scheduler at {args.scheduler} while the job ran "
                f"(the scheduler stopped, or the network failed): {then} once the scheduler "
                "runs again") from None


def _first_worker(client, address, timeout, echo):
    """Wait up to ``timeout`` s for a worker to join a scheduler that has none; their count.

    A batch system may still be starting the workers (dask-jobqueue, a Kubernetes
    deployment scaling up); a job sent to a scheduler without workers would wait silently
    for good.
    """
    echo(f"cluster: scheduler {address} has no workers yet; waiting up to {timeout:g} s "
         "for one")
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise UsageError(f"the scheduler at {address} has no workers: none joined within "
                         f"{timeout:g} s (start some with 'dask worker {address}', or wait "
                         "longer with --timeout)") from None
    return len(scheduler_workers(client))


def _forkserver_ignoring_sigint():
    """Start multiprocessing's fork server, if not yet running, so that its workers ignore SIGINT.

    The server restores, in each child it forks, the SIGINT disposition it had once its
    preloads were imported: ignored, by :mod:`._ignore_sigint`, named first among them.
    Returns the dask config that makes distributed start its workers through it (``{}``
    where there is no fork server: Windows).
    """
    import multiprocessing
    import signal

    import dask
    from distributed.utils import get_mp_context

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return {}
    config = {"distributed.worker.multiprocessing-method": "forkserver"}
    with dask.config.set(config):
        context = get_mp_context()  # sets distributed's preloads (imported once, in the server)
    from multiprocessing import forkserver, resource_tracker

    # No public reader of the preloads: distributed's are kept, after ours.
    preloads = list(getattr(forkserver._forkserver, "_preload_modules", []))
    first = f"{__package__}._ignore_sigint"
    context.set_forkserver_preload([first, *(m for m in preloads if m != first)])
    # The resource tracker takes its warning filters from the command's -W options when it
    # starts. A batch system that stops the job signals every process of it: the workers die
    # holding semaphores, which the tracker cleans up at its end with a UserWarning ("There
    # appear to be 2 leaked semaphore objects"), a line after the command's last one.
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)
    # A closed terminal sends SIGHUP to the whole process group, which the resource tracker
    # does not ignore: it died, and printed a dozen tracebacks after the command's line.
    # Started with SIGHUP blocked, the tracker and the fork server (and the workers it
    # forks) keep it blocked, never delivered; this process gets it once it unblocks it.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        # The resource tracker first: starting it unblocks SIGINT whatever the mask was.
        resource_tracker.ensure_running()
        # A Ctrl-C while the server starts waits until it runs (or reaches another thread,
        # whose Python handler raises it here all the same): the server is started with
        # SIGINT blocked, until its first preload ignores it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return config


def _local_client(args, echo):
    import dask
    from distributed import Client, LocalCluster

    workers = args.workers or available_cores()
    threads = args.threads_per_worker or 1
    echo(f"starting a local cluster: {workers} worker process{'es' * (workers > 1)} x "
         f"{threads} thread{'s' * (threads > 1)}")
    # Worker processes (the WCS and zarr code hold the GIL). The dashboard gets a free port
    # (":0"): None would still bind 8787 and warn when another cluster holds it. The cluster
    # starts without workers so that an interrupt while they start finds it closable.
    with dask.config.set(_forkserver_ignoring_sigint()), _quiet_shutdown(), \
            LocalCluster(n_workers=0, threads_per_worker=threads, processes=True, host="127.0.0.1",
                         dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client, quiet_interrupt():
        # Before any worker starts: the scheduler hands plugins to workers as they join.
        client.register_plugin(_quiet_worker_shutdown())
        cluster.scale(workers)
        client.wait_for_workers(workers)
        echo(f"cluster: local, {workers} worker{'s' * (workers > 1)} x {threads} "
             f"thread{'s' * (threads > 1)}{_dashboard(client)}")
        yield client
