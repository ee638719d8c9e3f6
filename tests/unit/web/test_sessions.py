"""Dashboard sessions and login throttling, on a clock the test turns."""

from __future__ import annotations

from vigil.config import WebRole
from vigil.web.passwords import check, hash_password
from vigil.web.sessions import MAX_SESSIONS, LoginThrottle, Sessions


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_session_idle_past_its_timeout_is_gone_and_a_used_one_lives_on() -> None:
    clock = Clock()
    sessions = Sessions(60.0, clock)
    used = sessions.open("alice", WebRole.OPERATOR)
    idle = sessions.open("bob", WebRole.READ_ONLY)
    for _ in range(3):
        clock.t += 40
        assert sessions.get(used.id) is used
    assert sessions.get(idle.id) is None


def test_each_session_has_its_own_unguessable_id_and_csrf_token() -> None:
    sessions = Sessions(60.0, Clock())
    a, b = sessions.open("alice", WebRole.OPERATOR), sessions.open("alice", WebRole.OPERATOR)
    assert len({a.id, b.id, a.csrf, b.csrf}) == 4
    assert min(len(x) for x in (a.id, a.csrf)) >= 40


def test_logging_in_again_and_again_cannot_grow_the_sessions_without_bound() -> None:
    sessions = Sessions(60.0, Clock())
    first = sessions.open("alice", WebRole.OPERATOR)
    for _ in range(MAX_SESSIONS + 10):
        sessions.open("alice", WebRole.OPERATOR)
    assert len(sessions) == MAX_SESSIONS
    assert sessions.get(first.id) is None


def test_logout_ends_the_session() -> None:
    sessions = Sessions(60.0, Clock())
    s = sessions.open("alice", WebRole.READ_ONLY)
    sessions.close(s.id)
    assert sessions.get(s.id) is None
    assert not s.may_act


def test_five_failures_throttle_the_address_and_the_name_until_the_window_passes() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, max_failures=5, window_s=300)
    for _ in range(5):
        assert throttle.retry_after("10.0.0.9", "alice") == 0
        throttle.failed("10.0.0.9", "alice")
    assert throttle.retry_after("10.0.0.9", "bob") == 300  # same address, other name
    assert throttle.retry_after("10.0.0.7", "alice") == 300  # other address, same name
    assert throttle.retry_after("10.0.0.7", "bob") == 0
    clock.t += 301
    assert throttle.retry_after("10.0.0.9", "alice") == 0


def test_a_good_password_clears_the_failures() -> None:
    throttle = LoginThrottle(Clock(), max_failures=2)
    throttle.failed("a", "alice")
    throttle.succeeded("a", "alice")
    throttle.failed("a", "alice")
    assert throttle.retry_after("a", "alice") == 0


def test_password_checks_only_the_right_password_and_unknown_users_fail() -> None:
    h = hash_password("correct horse battery", ln=12)
    assert check("correct horse battery", h)
    assert not check("correct horse batterY", h)
    assert not check("correct horse battery", None)
    assert h != hash_password("correct horse battery", ln=12)  # salted
