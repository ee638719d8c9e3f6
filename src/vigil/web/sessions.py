"""Who is logged in to the dashboard, and who is trying too often.

Rules of this file:
- A session is a random 256-bit id (the cookie) with its user, role and its own
  CSRF token; it ends after ``timeout_s`` without a request, at logout, or when
  the daemon restarts (sessions live in memory only: a restart means logging in
  again, never a stale session on disk).
- At most ``MAX_SESSIONS``: the least recently used goes first, so nobody can
  grow the daemon's memory by logging in again and again.
- Login throttling counts failures per client address and per user name in a
  sliding window; past ``MAX_FAILURES`` the next attempts are refused without
  checking the password (``retry_after``), as sshd's MaxAuthTries and fail2ban.
- Time comes in as ``now`` (seconds, monotonic): the tests pass their own.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.config import WebRole

__all__ = ["LoginThrottle", "Session", "Sessions"]

MAX_SESSIONS = 256
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
_MAX_TRACKED = 4096  # addresses and names remembered by the throttle


@dataclass(slots=True)
class Session:
    """One logged-in browser."""

    id: str = field(repr=False)
    user: str
    role: WebRole
    csrf: str = field(repr=False)
    last_seen: float

    @property
    def may_act(self) -> bool:
        return self.role is WebRole.OPERATOR


class Sessions:
    """The live sessions, by id."""

    def __init__(self, timeout_s: float, now: Callable[[], float]) -> None:
        self.timeout_s = timeout_s
        self.now = now
        self._by_id: OrderedDict[str, Session] = OrderedDict()

    def open(self, user: str, role: WebRole) -> Session:
        """A new session for USER (the oldest is dropped past ``MAX_SESSIONS``)."""
        while len(self._by_id) >= MAX_SESSIONS:
            self._by_id.popitem(last=False)
        s = Session(secrets.token_urlsafe(32), user, role, secrets.token_urlsafe(32), self.now())
        self._by_id[s.id] = s
        return s

    def get(self, sid: str | None) -> Session | None:
        """The live session SID, touched; None when unknown or expired."""
        if not sid:
            return None
        s = self._by_id.get(sid)
        if s is None:
            return None
        now = self.now()
        if now - s.last_seen > self.timeout_s:
            del self._by_id[sid]
            return None
        s.last_seen = now
        self._by_id.move_to_end(sid)
        return s

    def close(self, sid: str | None) -> None:
        if sid:
            self._by_id.pop(sid, None)

    def __len__(self) -> int:
        return len(self._by_id)


class LoginThrottle:
    """Failed logins per client address and per user name, in a sliding window."""

    def __init__(self, now: Callable[[], float], max_failures: int = MAX_FAILURES,
                 window_s: float = FAILURE_WINDOW_S) -> None:
        self.now = now
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        cutoff = self.now() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def retry_after(self, address: str, user: str) -> float:
        """Seconds until ADDRESS may try USER again; 0 when it may now."""
        wait = 0.0
        for key in (f"addr:{address}", f"user:{user}"):
            times = self._recent(key)
            if len(times) >= self.max_failures:
                wait = max(wait, times[0] + self.window_s - self.now())
        return wait

    def failed(self, address: str, user: str) -> None:
        for key in (f"addr:{address}", f"user:{user}"):
            times = self._failures.setdefault(key, deque(maxlen=self.max_failures))
            times.append(self.now())
            self._failures.move_to_end(key)
        while len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, address: str, user: str) -> None:
        """A good password clears the address's and the name's failures."""
        self._failures.pop(f"addr:{address}", None)
        self._failures.pop(f"user:{user}", None)
