"""The daemon's life: start-up, signals, reload, and a clean stop.

Order of start-up, and why:
1. read and validate the configuration (nothing else starts when it is bad);
2. lock the state directory and increment the incarnation (durably, before
   any heartbeat leaves, so no two lives share a number);
3. set up logging as the configuration says;
4. open the links and start heartbeating, the ping nodes' pinger, the
   ``respawn`` programs (their users were checked before anything started),
   then the control socket;
5. tell systemd READY=1.

SIGTERM/SIGINT: STOPPING=1, this node's resources are handed over (the DC
moves them; without a DC they are stopped here), a leave message on every
link (peers mark us dead at once instead of waiting for deadtime, as
Heartbeat's shutdown message), respawned programs get SIGTERM (then
SIGKILL), close everything, exit 0. SIGHUP: reopen the log files (logrotate),
re-read the configuration; apply it when valid, otherwise log every error and
keep running the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil import __version__
from vigil.config import ClusterConfig, ConfigError, load
from vigil.daemon.apiauth import ApiAccess
from vigil.daemon.arbiter_runner import ArbiterRunner
from vigil.daemon.clock import Clock
from vigil.daemon.connectivity import ConnectivityMonitor
from vigil.daemon.control import CommandError, ControlServer
from vigil.daemon.logsetup import LOGGER_NAME, LogSetup, kv
from vigil.daemon.notify import sd_notify
from vigil.daemon.resources import ResourceRuntime, admin_command, shutdown_timeout_s
from vigil.daemon.respawn import Respawner
from vigil.daemon.runtime import NodeRuntime
from vigil.daemon.safety import Safety
from vigil.daemon.statedir import StateDir
from vigil.exitcodes import ExitCode, VigilError

log = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """What ``vigil daemon`` was asked to do."""

    config_path: Path
    node: str | None
    state_dir: Path
    socket_path: Path


def choose_node(config: ClusterConfig, wanted: str | None) -> str:
    """This node's name: ``--node``, else ``uname -n`` as Heartbeat; must be configured."""
    name = wanted if wanted is not None else os.uname().nodename
    if name in config.node_names:
        return name
    if wanted is None:
        short = name.split(".", 1)[0]
        if short in config.node_names:
            return short
    known = " ".join(config.node_names)
    how = "--node" if wanted is not None else "this machine's name (uname -n)"
    raise VigilError(f"{how} {name!r} is not a node of the configuration (nodes: {known})",
                     code=ExitCode.NOT_FOUND,
                     hint="give the right name with --node, or add this node to the config")


def load_config(path: Path) -> ClusterConfig:
    """The configuration at PATH, or a ``VigilError`` listing every problem."""
    result = load(path)
    if result.config is None or not result.ok:
        errors = [d.format() for d in result.diagnostics if d.is_error]
        raise VigilError("invalid configuration:\n" + "\n".join(errors),
                         hint=f"run `vigil config check {path}` for details")
    return result.config


def run_daemon(options: DaemonOptions) -> int:
    """Run until SIGTERM; the process exit code."""
    config = load_config(options.config_path)
    node = choose_node(config, options.node)
    state = StateDir(options.state_dir, node)
    state.acquire()
    logs = LogSetup(node)
    try:
        incarnation = state.next_incarnation()
        for problem in logs.apply(config.logging):
            log.error(problem)
        try:
            return asyncio.run(Service(options, config, node, incarnation, logs).run())
        except VigilError as e:
            # Also into the log files: under systemd nobody reads the terminal.
            log.error(kv("daemon failed", node=node, error=e.message, hint=e.hint))
            raise
    finally:
        logs.close()
        state.release()


class Service:
    """One running daemon: the runtime, the control server, and the signals."""

    def __init__(self, options: DaemonOptions, config: ClusterConfig, node: str,
                 incarnation: int, logs: LogSetup) -> None:
        self.options = options
        self.config = config
        self.node = node
        self.incarnation = incarnation
        self.logs = logs
        self.reload_errors: list[str] = []
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[bool]] = set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        clock = Clock(loop)
        runtime = NodeRuntime(self.config, self.node, self.incarnation, clock,
                              config_path=self.options.config_path)
        self.runtime = runtime
        #: This node's resources: coordinator and executor (docs/coordinator.md).
        self.resources = ResourceRuntime(
            self.config, self.node, self.incarnation, clock, state_dir=self.options.state_dir,
            send=runtime.send_message)
        runtime.resources = self.resources
        #: Fencing and the watchdog (daemon/safety.py): ``vigil fence``, status sections.
        self.safety = Safety(self.config, self.node, clock, runtime, self.resources)
        # Imported here: vigil.web reads vigil.daemon modules (no import cycle at start-up).
        from vigil.web import MetricsCollector, serve_dashboard, serve_metrics
        #: /metrics (docs/metrics.md): read at scrape time, served as [metrics] says.
        self.metrics = MetricsCollector(
            self._status, runtime.arrivals, events=lambda: self.resources.events_counted,
            fence_requests=lambda: len(self.resources.fence_requests))
        self.resources.executor.subscribe(lambda op: self.metrics.operation_finished(
            op.agent, op.action, op.interval_ms, op.duration_ms))
        metrics_server = None
        dashboard = None  # [web] (docs/web.md): the control handlers over HTTP
        respawner = Respawner(self.config.respawn)  # an unknown user stops us here
        self.respawner = respawner
        #: This node's connectivity (ping nodes, score): ``snapshot()``, ``subscribe()``.
        self.connectivity = ConnectivityMonitor(self.config.connectivity, self.config.timing,
                                                clock)
        control = ControlServer(self.options.socket_path, {
            "ping": lambda _req: {"node": self.node, "pid": os.getpid(), "version": __version__},
            "status": lambda _req: self._status(),
            "reload": lambda _req: self._reload_command(),  # awaited by the server
            **{cmd: self._admin_handler(cmd)
               for cmd in ("standby", "online", "move", "unmove", "cleanup")},
            "events": lambda _req: self._events_command(),
            **self.safety.commands(),
        }, access=self._api_access())
        await runtime.start()
        self.resources.start()  # probes only: a start needs the DC, after the watchdog
        #: The arbitrator's runner (daemon/arbiter_runner.py), with an [arbiter].
        self.arbiter: ArbiterRunner | None = None
        if self.config.arbiter is not None:
            self.arbiter = ArbiterRunner(
                self.config, runtime.me, clock, membership=lambda: runtime.membership,
                feed=runtime.arbiter_vote, incarnation=self.incarnation)
            self.arbiter.start()
        self.connectivity.subscribe(lambda snap: self.resources.on_connectivity(snap.score))
        try:
            self.safety.start()  # arms the watchdog; a missing device stops us here
            self.connectivity.start()
            await respawner.start()
            metrics_server = await serve_metrics(self.config, self.node, self.metrics)
            await control.start()
            dashboard = await serve_dashboard(self.config, self.node, control.handlers)
        except BaseException:
            if self.arbiter is not None:
                await self.arbiter.stop(release=False)
            await self.safety.close(clean=True)
            if metrics_server is not None:
                await metrics_server.close()
            await control.close()
            await respawner.stop()
            self.connectivity.stop()
            await runtime.stop(leave=True, why="control socket failed")
            raise
        for sig, why in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            loop.add_signal_handler(sig, self.request_stop, why)
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        # Everything built so far (imports, configuration) lives as long as the
        # daemon: keep it out of the cyclic collector's scans from now on.
        gc.freeze()
        log.info(kv("daemon started", node=self.node, incarnation=self.incarnation,
                    pid=os.getpid(), config=self.options.config_path,
                    socket=self.options.socket_path, version=__version__))
        sd_notify("READY=1", f"STATUS=heartbeating as {self.node}, "
                             f"incarnation {self.incarnation}", f"MAINPID={os.getpid()}")
        self._feed_watchdog(loop)
        try:
            await self._stop.wait()
        finally:
            sd_notify("STOPPING=1")
            log.info(kv("daemon stopping", node=self.node, reason=self._stop_reason or "error"))
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
            # As Heartbeat: resources handed over first, then clients, then the
            # cluster communication.
            why = f"stopped by {self._stop_reason or 'an error'}"
            handed_over = await self.resources.shutdown(why, shutdown_timeout_s(self.config))
            if self.arbiter is not None:
                # Nothing runs here any more: the lease may go to the peer at once.
                # Otherwise it lapses after its TTL, with this node's vote deadline.
                await self.arbiter.stop(release=handed_over)
            await respawner.stop()
            self.connectivity.stop()
            await runtime.stop(leave=True, why=why)
            await self.resources.close()
            await self.safety.close(clean=True)  # the watchdog's magic close
            if dashboard is not None:
                await dashboard.close()
            await control.close()
            if metrics_server is not None:
                await metrics_server.close()
        log.info(kv("daemon stopped", node=self.node, incarnation=self.incarnation))
        return 0

    def _feed_watchdog(self, loop: asyncio.AbstractEventLoop) -> None:
        """WATCHDOG=1 every half ``WatchdogSec`` from the event loop (sd_watchdog_enabled(3)).

        Sent from the loop itself, so a loop that hangs stops feeding and systemd
        restarts the daemon; nothing is sent when systemd asked for no watchdog."""
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
            return
        every_s = int(usec) / 2_000_000

        def feed() -> None:
            if not self._stop.is_set():
                sd_notify("WATCHDOG=1")
                loop.call_later(every_s, feed)

        feed()

    def request_stop(self, why: str) -> None:
        self._stop_reason = why
        self._stop.set()

    def _api_access(self) -> ApiAccess:
        """Who besides root may use the control socket (``apiauth``), read at start."""
        access = ApiAccess.from_config(self.config.apiauth)
        for problem in access.problems:
            log.warning(kv("apiauth entry ignored", problem=problem))
        return access

    def _status(self) -> dict[str, object]:
        doc = self.runtime.status()
        cfg = doc.setdefault("config", {})
        if isinstance(cfg, dict):
            cfg["reload_errors"] = list(self.reload_errors)
        doc.setdefault("connectivity", self.connectivity.status_doc())
        doc.setdefault("respawn", self.respawner.status())
        scores = self.resources.node_connectivity()
        for entry in doc.get("nodes", []):
            entry["connectivity"] = scores.get(entry["name"])
        doc.update(self.resources.status())
        doc.update(self.safety.status_doc())
        doc["arbiter"] = self.arbiter.status_doc() if self.arbiter is not None else None
        return doc

    def _admin_handler(self, cmd: str) -> Callable[[Mapping[str, Any]], Awaitable[object]]:
        async def handle(req: Mapping[str, Any]) -> object:
            if self._stop.is_set():
                raise CommandError("the daemon is stopping")
            command = admin_command(cmd, req, self.node)
            timeout = float(req.get("timeout", 55.0)) if isinstance(
                req.get("timeout"), int | float) else 55.0
            try:
                answer = await self.resources.admin(command, timeout)
            except TimeoutError:
                raise CommandError(f"{command}: the DC did not confirm within {timeout:g} s",
                                   "check `vigil status`: is there a DC with quorum?") from None
            if not answer.accepted:
                raise CommandError(answer.reason, answer.hint or None)
            return {"accepted": True, "message": answer.reason}
        return handle

    async def _events_command(self) -> object:
        answered = await self.resources.events(10.0)
        return self.resources.events_doc(answered)

    def _reload_soon(self) -> None:
        self.logs.reopen()  # logrotate's postrotate sends SIGHUP: reopen before anything
        task = asyncio.get_running_loop().create_task(self.reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self) -> bool:
        """Re-read the configuration; apply it when valid. True when applied."""
        async with self._reload_lock:
            # systemd's Type=notify-reload protocol; harmless under Type=notify.
            sd_notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
            try:
                return await self._reload()
            finally:
                sd_notify("READY=1")

    async def _reload(self) -> bool:
        path = self.options.config_path
        log.info(kv("reloading configuration", file=path))
        try:
            config = load_config(path)
            choose_node(config, self.node)
        except VigilError as e:
            return self._refuse(e.message.splitlines()[1:] or [e.message])
        except (ConfigError, OSError) as e:  # load() reports problems; this is defence
            return self._refuse([str(e)])
        problems = await self.runtime.apply_config(config)
        if problems:
            return self._refuse(problems)
        self.reload_errors = []
        if (config.resources, config.groups) != (self.config.resources, self.config.groups):
            log.warning(kv("resource and group changes take effect when the daemon restarts",
                           file=path))
        if (config.respawn, config.connectivity) != (self.config.respawn,
                                                     self.config.connectivity):
            log.warning(kv("respawn and ping changes take effect when the daemon restarts",
                           file=path))
        self.config = config
        for problem in self.logs.apply(config.logging):
            log.error(problem)
        log.info(kv("configuration reloaded", file=path, digest=self.runtime.digest))
        return True

    def _refuse(self, errors: list[str]) -> bool:
        self.reload_errors = errors
        for line in errors:
            log.error(kv("configuration not reloaded, keeping the running one", error=line))
        return False

    async def _reload_command(self) -> dict[str, object]:
        if self._stop.is_set():
            raise CommandError("the daemon is stopping")
        reloaded = await self.reload()
        return {"reloaded": reloaded, "errors": list(self.reload_errors)}
