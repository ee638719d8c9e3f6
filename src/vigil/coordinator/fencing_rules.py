"""How a lost node counts as fenced: by a fence device, by its own watchdog, or not at all.

Rules of this file (pure; the DC in ``dc.py`` applies them):
- ``DEVICES``: fence devices are configured (native ``[[fence_device]]`` or
  ha.cf ``stonith``/``stonith_host``). The DC emits ``Fence`` and recovers only
  after ``FenceConfirmed``, as Pacemaker.
- ``WATCHDOG``: no fence device, but every node runs a watchdog (``watchdog``
  in ha.cf or the native file) and the cluster is not a two-node one. As SBD's
  watchdog-only mode (``stonith-watchdog-timeout``): a lost node is considered
  fenced ``self_fence_wait_ms`` after the DC decided to fence it, because by
  then its watchdog has reset it. Why that wait is enough:

  * the node feeds its watchdog only while healthy (``WatchdogGuard``): its
    loop is not stalled, and it holds quorum in a view its peers agree with
    (or runs nothing). A stall longer than ``max_lag_ms`` ends feeding for
    good, so a daemon frozen long enough to be declared dead never feeds again;
  * the DC decides at D, after not hearing the node for deadtime. The node
    learns it is excluded (its view is unstable: a peer reports a view without
    it) at most a one-way delay after D, or at its resume after a stall of at
    most ``max_lag_ms`` (< deadtime); it stops feeding once its view has been
    unstable for ``max_unstable_ms`` (one deadtime), at the next feed tick (one
    keepalive): so its last feed is before D + 3 × deadtime, and its watchdog
    fires at most ``watchdog_timeout_ms`` later.

  Two-node clusters keep quorum alone on each side of a split, so a cut-off
  node would keep feeding: there, self-fencing needs the arbitrator and is
  not assumed (``config check`` says so).
- ``NONE``: as Heartbeat, a dead node's resources count as stopped after
  deadtime (and ``vigil status`` warns: split brain possible).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigil.config import ClusterConfig


class FencingMode(enum.Enum):
    DEVICES = "devices"  # fence agents power the node off
    WATCHDOG = "watchdog"  # the node's own watchdog resets it (self-fencing)
    NONE = "none"  # nothing: split brain possible


def fencing_mode(config: ClusterConfig) -> FencingMode:
    """How CONFIG's cluster fences a lost node (see the rules above)."""
    if config.fencing.enabled:
        return FencingMode.DEVICES
    if config.watchdog is not None and not (config.quorum.two_node
                                            and len(config.nodes) == 2):
        return FencingMode.WATCHDOG
    return FencingMode.NONE


def watchdog_timeout_ms(config: ClusterConfig) -> int:
    """The watchdog timeout the daemon sets: twice deadtime, in whole seconds (the
    kernel's unit), at least one second."""
    seconds = -(-2 * config.timing.deadtime_ms // 1000)
    return max(1, seconds) * 1000


def watchdog_max_lag_ms(config: ClusterConfig) -> int:
    """A main-loop stall longer than this ends feeding for good: deadtime less a
    keepalive, so a stall nobody could have declared the node dead for is forgiven."""
    t = config.timing
    return max(t.keepalive_ms, t.deadtime_ms - t.keepalive_ms)


def watchdog_max_unstable_ms(config: ClusterConfig) -> int:
    """How long a node running resources feeds while its peers disagree with its view."""
    return config.timing.deadtime_ms


def self_fence_wait_ms(config: ClusterConfig) -> int:
    """How long after deciding to fence a lost node the DC counts it as self-fenced."""
    return watchdog_timeout_ms(config) + 3 * config.timing.deadtime_ms


@dataclass(slots=True)
class WatchdogGuard:
    """Whether to feed the watchdog at one tick of the main loop; the daemon and the
    simulator both ask it. Pure (the time comes in), with two memories: since when
    the view is unstable, and a stall that ended feeding for good."""

    max_lag_ms: int
    max_unstable_ms: int
    latched: str | None = None
    unstable_since_ms: int | None = None

    @classmethod
    def for_config(cls, config: ClusterConfig) -> WatchdogGuard:
        return cls(watchdog_max_lag_ms(config), watchdog_max_unstable_ms(config))

    def decide(self, now_ms: int, *, lag_ms: int, quorate: bool, stable: bool,
               resources_stopped: bool, blocked: bool = False) -> tuple[bool, str]:
        """(feed, why) at NOW_MS: LAG_MS is how late this tick ran; BLOCKED: a stop
        failed here, so a resource may still run whatever this node reports."""
        if stable:
            self.unstable_since_ms = None
        elif self.unstable_since_ms is None:
            self.unstable_since_ms = now_ms
        if self.latched is not None:
            return False, self.latched
        if blocked:
            # Only a reset makes a failed stop certain (SBD does the same): the DC
            # may be unable to fence this node otherwise (itself, or no device).
            self.latched = "a stop failed here: not fed again, so the reset stops it"
            return False, self.latched
        if lag_ms > self.max_lag_ms and not resources_stopped:
            # The node may have been declared dead meanwhile: let the watchdog reset it.
            self.latched = (f"main loop stalled {lag_ms} ms (limit {self.max_lag_ms} ms) "
                            "with resources active: not fed again")
            return False, self.latched
        if resources_stopped:
            return True, "no resource runs here"
        if not quorate:
            return False, "no quorum and resources still active here"
        since = self.unstable_since_ms
        if since is not None and now_ms - since > self.max_unstable_ms:
            return False, (f"peers disagree with this node's view for {now_ms - since} ms "
                           f"(limit {self.max_unstable_ms} ms) with resources active")
        return True, "loop healthy and quorum held"


__all__ = [
    "FencingMode",
    "WatchdogGuard",
    "fencing_mode",
    "self_fence_wait_ms",
    "watchdog_max_lag_ms",
    "watchdog_max_unstable_ms",
    "watchdog_timeout_ms",
]
