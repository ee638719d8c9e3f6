"""The coordinator's ``Fence`` effects on real time: fence agents run as tasks, never blocking.

Rules of this file:
- ``request(Fence)`` starts (or joins) one task per node; the main loop goes on.
  The task runs ``Fencer.fence`` (its levels, delays and agents) and feeds the
  coordinator ``FenceConfirmed`` on success. On failure it feeds
  ``FenceFailed`` (the events log says so), logs an error, and tries again
  after a back-off that doubles from ``RETRY_FIRST_S`` to ``RETRY_MAX_S``:
  the lost node's resources stay where they were, as Pacemaker keeps retrying
  a failed fence and recovers nothing meanwhile.
- ``fence_now`` is ``vigil fence NODE``: one fence, its result returned; on
  success the coordinator hears ``FenceConfirmed`` too.
- ``confirm`` is ``vigil fence --confirm NODE`` ("meatware"): the administrator
  swears NODE is off; retries for it stop and the coordinator hears
  ``FenceConfirmed``. Only the DC waits on fences, so the control command
  refuses it on other nodes (see ``service``).
- ``status_doc`` is the ``fencing`` section of ``vigil status --json``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from vigil.config import ClusterConfig, NodeName
from vigil.coordinator import Event, Fence, FenceConfirmed, FenceFailed
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.fencing import (
    RETRY_FIRST_MS,
    RETRY_MAX_MS,
    Fencer,
    FenceResult,
    devices_from_legacy,
    topology_of,
)

log = logging.getLogger(f"{LOGGER_NAME}.fencing")

RETRY_FIRST_S = RETRY_FIRST_MS / 1000
RETRY_MAX_S = RETRY_MAX_MS / 1000

Feed = Callable[[Event], None]


class FencingRunner:
    """Runs this node's fences for its coordinator (see the module)."""

    def __init__(self, config: ClusterConfig, me: NodeName, feed: Feed, *,
                 fencer: Fencer | None = None, retry_first_s: float = RETRY_FIRST_S,
                 retry_max_s: float = RETRY_MAX_S) -> None:
        if fencer is None:
            # ha.cf's stonith/stonith_host lines run as the devices they map to.
            legacy, _report = devices_from_legacy(config.fencing.legacy, config.node_names)
            fencer = Fencer((*config.fencing.devices, *legacy), me,
                            topology=topology_of(config.fencing))
        self.fencer = fencer
        self.feed = feed
        self.retry_first_s = retry_first_s
        self.retry_max_s = retry_max_s
        self._tasks: dict[NodeName, asyncio.Task[None]] = {}
        #: node -> the next retry's wall-clock-free description, for status
        self.retrying: dict[NodeName, str] = {}

    # -- the coordinator's effects ---------------------------------------------

    def request(self, effect: Fence) -> None:
        """The coordinator asked to fence ``effect.node``: start unless already running."""
        node = effect.node
        task = self._tasks.get(node)
        if task is not None and not task.done():
            return  # the same node again: one run (as Pacemaker merges requests)
        task = asyncio.get_running_loop().create_task(self._until_fenced(node, effect.reason),
                                                      name=f"vigil-fence-{node}")
        self._tasks[node] = task
        task.add_done_callback(partial(self._done, node))

    async def _until_fenced(self, node: NodeName, reason: str) -> None:
        wait = self.retry_first_s
        while True:
            result = await self.fencer.fence(node, reason)
            if result.succeeded:
                self.retrying.pop(node, None)
                self.feed(FenceConfirmed(node, result.summary))
                return
            why = f"{result.summary}; retrying in {wait:g} s"
            self.retrying[node] = why
            log.error(kv("FENCING FAILED: the node's resources are not recovered until it "
                         "is fenced", node=node, summary=result.summary, retry_s=wait,
                         hint=f"vigil fence --confirm {node} once it is off"))
            self.feed(FenceFailed(node, why))
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.retry_max_s)

    def _done(self, node: NodeName, task: asyncio.Task[None]) -> None:
        if self._tasks.get(node) is task:
            del self._tasks[node]
        if not task.cancelled() and task.exception() is not None:
            log.error(kv("fencing task failed", node=node, error=repr(task.exception())))

    # -- the administrator -----------------------------------------------------

    async def fence_now(self, node: NodeName, reason: str) -> FenceResult:
        """``vigil fence NODE``: fence it now; the coordinator hears of a success."""
        result = await self.fencer.fence(node, reason)
        if result.succeeded:
            self._stop_retrying(node)
            self.feed(FenceConfirmed(node, result.summary))
        return result

    def confirm(self, node: NodeName, reason: str) -> FenceResult:
        """``vigil fence --confirm NODE``: a person made sure NODE is off."""
        self._stop_retrying(node)
        result = self.fencer.confirm(node, reason)
        log.warning(kv("fence confirmed by hand", node=node, reason=reason))
        self.feed(FenceConfirmed(node, result.summary))
        return result

    def _stop_retrying(self, node: NodeName) -> None:
        task = self._tasks.pop(node, None)
        if task is not None:
            task.cancel()
        self.retrying.pop(node, None)

    # -- life and status ---------------------------------------------------------

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def status_doc(self) -> dict[str, Any]:
        """The ``fencing`` section of the status document (docs/status.md)."""
        return {
            "devices": [{"name": d.name, "agent": d.agent, "nodes": list(d.nodes),
                         "delay_ms": d.delay_ms, "random_delay_ms": d.random_delay_ms}
                        for d in self.fencer.devices],
            "in_progress": sorted(self._tasks),
            "retrying": dict(sorted(self.retrying.items())),
            "history": self.fencer.history.as_list(),
        }
