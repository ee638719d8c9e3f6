"""The arbitrator's lease decisions at exact times: expiry, renewal, takeover, tokens, replays."""

from __future__ import annotations

from collections.abc import Mapping

from vigil.arbiter import (
    ACQUIRE,
    GRANTED,
    QUERY,
    REFUSED,
    RELEASE,
    RELEASED,
    RENEW,
    STATE,
    TRANSFER,
    Arbiter,
    LeaseRecord,
    Persist,
    Reply,
)
from vigil.config import Auth, AuthKey, AuthMethod, Compression, NodeName
from vigil.wire import Codec, Envelope, Sequencer

TTL = 10_000
A, B, C = NodeName("alpha"), NodeName("beta"), NodeName("gamma")


def codec(secret: bytes = b"cluster-key") -> Codec:
    return Codec(Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, secret)}), Compression(), "prod")


class Node:
    """A client node: signs requests as NAME and reads the arbiter's replies."""

    def __init__(self, name: NodeName, incarnation: int = 1, secret: bytes = b"cluster-key"):
        self.seq = Sequencer(codec(secret), name, incarnation)
        self.reader = codec()
        self.last: bytes = b""

    def ask(self, arbiter: Arbiter, kind: str, now_ms: int,
            **body: object) -> tuple[str, Mapping[str, object]] | None:
        self.last = self.seq.encode(kind, body)
        return self.answer(arbiter.receive(self.last, now_ms))

    def answer(self, effects: tuple[object, ...]) -> tuple[str, Mapping[str, object]] | None:
        replies = [e for e in effects if isinstance(e, Reply)]
        if not replies:
            return None
        env = self.reader.decode(replies[0].data)
        assert isinstance(env, Envelope)
        assert env.body["re"] == self.seq.next_seq - 1  # answers the request just sent
        return env.kind, env.body


EMPTY = LeaseRecord()


def fresh(record: LeaseRecord = EMPTY, now_ms: int = 0) -> Arbiter:
    return Arbiter(codec(), record, TTL, now_ms)


def test_first_acquire_gets_token_1_and_persists_it_before_replying() -> None:
    arb, alpha = fresh(), Node(A)
    effects = arb.receive(alpha.seq.encode(ACQUIRE, {"partition": ["alpha", "gamma"]}), 1000)
    assert [type(e) for e in effects] == [Persist, Reply]
    assert effects[0] == Persist(LeaseRecord(1, A, (A, C)),
                                 "lease granted to alpha with token 1")
    kind, body = alpha.answer(effects) or ("", {})
    assert kind == GRANTED
    assert (body["token"], body["holder"], body["remaining_ms"], body["vote"]) == (1, "alpha",
                                                                                   TTL, True)


def test_second_node_is_refused_until_the_exact_ms_the_lease_expires() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    refused = beta.ask(arb, ACQUIRE, TTL - 1)
    assert refused is not None
    assert refused[0] == REFUSED
    assert (refused[1]["holder"], refused[1]["remaining_ms"]) == ("alpha", 1)
    granted = beta.ask(arb, ACQUIRE, TTL)
    assert granted is not None
    assert granted[0] == GRANTED
    assert granted[1]["token"] == 2  # takeover after expiry: a higher token


def test_renewal_before_expiry_extends_the_lease_by_a_full_ttl() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    renewed = alpha.ask(arb, RENEW, TTL - 1, token=1)
    assert renewed is not None
    assert renewed[0] == GRANTED
    assert renewed[1]["remaining_ms"] == TTL
    refused = beta.ask(arb, ACQUIRE, 2 * TTL - 2)
    assert refused is not None
    assert (refused[0], refused[1]["remaining_ms"]) == (REFUSED, 1)
    assert arb.holder(2 * TTL - 2) == A
    assert arb.holder(2 * TTL - 1) is None


def test_renewal_after_expiry_is_refused_even_if_nobody_took_over() -> None:
    arb, alpha = fresh(), Node(A)
    alpha.ask(arb, ACQUIRE, 0)
    late = alpha.ask(arb, RENEW, TTL, token=1)
    assert late is not None
    assert late[0] == REFUSED
    assert "expired" in str(late[1]["reason"])
    again = alpha.ask(arb, ACQUIRE, TTL)
    assert again is not None
    assert again[1]["token"] == 2


def test_old_holder_with_a_stale_token_is_refused_after_takeover() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    beta.ask(arb, ACQUIRE, TTL + 5)
    for kind in (RENEW, RELEASE):
        stale = alpha.ask(arb, kind, TTL + 6, token=1)
        assert stale is not None
        assert stale[0] == REFUSED
        assert "stale token 1" in str(stale[1]["reason"])
    assert arb.holder(TTL + 6) == B


def test_token_never_handed_out_and_wrong_holder_are_refused() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    bogus = alpha.ask(arb, RENEW, 1, token=7)
    assert bogus is not None
    assert "never handed out" in str(bogus[1]["reason"])
    thief = beta.ask(arb, RELEASE, 1, token=1)
    assert thief is not None
    assert (thief[0], thief[1]["holder"]) == (REFUSED, "alpha")


def test_release_frees_the_lease_at_once_and_the_next_grant_takes_a_higher_token() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    released = alpha.ask(arb, RELEASE, 100, token=1)
    assert released is not None
    assert released[0] == RELEASED
    granted = beta.ask(arb, ACQUIRE, 101)
    assert granted is not None
    assert (granted[0], granted[1]["token"]) == (GRANTED, 2)


def test_replayed_request_is_dropped_without_an_answer() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0)
    release = alpha.seq.encode(RELEASE, {"token": 1})
    assert arb.receive(release, 10)
    alpha.ask(arb, ACQUIRE, 20)  # token 2
    assert arb.receive(release, 30) == ()  # a captured release cannot free the new lease
    assert arb.holder(30) == A
    assert arb.dropped == 1
    assert beta.ask(arb, ACQUIRE, 40) is not None


def test_request_signed_with_another_key_is_dropped() -> None:
    arb, mallory = fresh(), Node(B, secret=b"guessed")
    assert arb.receive(mallory.seq.encode(ACQUIRE, {}), 0) == ()
    assert arb.holder(0) is None


def test_restarted_arbiter_keeps_the_holder_for_a_ttl_and_never_reuses_a_token() -> None:
    record = LeaseRecord(token=41, holder=A, partition=(A,), boot=3)
    arb, alpha, beta = fresh(record, now_ms=500), Node(A, incarnation=9), Node(B)
    refused = beta.ask(arb, ACQUIRE, 500 + TTL - 1)
    assert refused is not None
    assert refused[0] == REFUSED
    renewed = alpha.ask(arb, RENEW, 600, token=41)
    assert renewed is not None
    assert renewed[0] == GRANTED
    taken = beta.ask(arb, ACQUIRE, 600 + TTL)
    assert taken is not None
    assert taken[1]["token"] == 42


def test_vote_goes_to_the_holders_partition_only() -> None:
    arb, alpha = fresh(), Node(A)
    alpha.ask(arb, ACQUIRE, 0, partition=["alpha", "gamma"])
    # A member counts the vote only when it names the holder's partition as its view.
    same = [A, C]
    assert [arb.votes_for(n, 1, same) for n in (A, B, C)] == [True, False, True]
    assert not arb.votes_for(C, 1, [C])  # gamma split off alpha: its view differs
    assert not arb.votes_for(A, TTL)


def test_a_query_changes_nothing_and_gives_the_vote_only_to_the_registered_partition() -> None:
    arb, alpha, beta, gamma = fresh(), Node(A), Node(B), Node(C)
    alpha.ask(arb, ACQUIRE, 0, partition=["alpha", "beta"])
    kind, body = beta.ask(arb, QUERY, 100, partition=["alpha", "beta"]) or ("", {})
    assert (kind, body["holder"], body["vote"], body["remaining_ms"]) == (STATE, "alpha", True,
                                                                          TTL - 100)
    # beta's view no longer holds alpha: a split, whatever the record still says.
    assert (beta.ask(arb, QUERY, 200, partition=["beta"]) or ("", {}))[1]["vote"] is False
    assert (gamma.ask(arb, QUERY, 300, partition=["alpha", "beta"]) or ("", {}))[1]["vote"] \
        is False
    assert arb.holder(TTL - 1) == A  # queries renewed nothing
    assert arb.holder(TTL) is None


def test_the_holders_acquire_renews_and_registers_its_new_partition() -> None:
    arb, alpha, beta = fresh(), Node(A), Node(B)
    alpha.ask(arb, ACQUIRE, 0, partition=["alpha", "beta"])
    kind, body = alpha.ask(arb, ACQUIRE, 5_000, partition=["alpha"]) or ("", {})
    assert (kind, body["token"], body["remaining_ms"]) == (GRANTED, 1, TTL)
    assert arb.record == LeaseRecord(1, A, (A,))
    assert (beta.ask(arb, QUERY, 5_001, partition=["alpha", "beta"]) or ("", {}))[1]["vote"] \
        is False


def test_a_transfer_hands_the_lease_to_a_partition_member_with_a_new_token() -> None:
    arb, alpha, beta, gamma = fresh(), Node(A), Node(B), Node(C)
    alpha.ask(arb, ACQUIRE, 0, partition=["alpha", "beta"])
    assert (gamma.ask(arb, TRANSFER, 10, token=1, to="gamma") or ("", {}))[0] == REFUSED
    assert (alpha.ask(arb, TRANSFER, 20, token=1, to="gamma") or ("", {}))[0] == REFUSED
    effects = arb.receive(alpha.seq.encode(TRANSFER, {"token": 1, "to": "beta"}), 1_000)
    assert effects[0] == Persist(LeaseRecord(2, B, (B,)),
                                 "alpha handed the lease to beta with token 2")
    kind, body = alpha.answer(effects) or ("", {})
    assert (kind, body["holder"], body["vote"]) == (GRANTED, "beta", False)
    # beta learns it by any request, and holds a full TTL from the transfer.
    assert (beta.ask(arb, QUERY, 1_100, partition=["alpha", "beta"]) or ("", {}))[1]["vote"]
    assert arb.holder(1_000 + TTL - 1) == B
    assert (alpha.ask(arb, RENEW, 1_200, token=1) or ("", {}))[0] == REFUSED  # stale now
