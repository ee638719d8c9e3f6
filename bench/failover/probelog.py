"""Reading the prober's log: who answered when, and the outage around a fault.

Pure: text in, figures out (the log format is in prober.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Question:
    seq: int
    sent_ns: int


@dataclass(frozen=True, slots=True)
class Answer:
    seq: int
    sent_ns: int
    received_ns: int
    responder: str
    source: str


@dataclass(frozen=True, slots=True)
class Outage:
    """What the client saw of one fault."""

    outage_ms: float    # fault -> first answer from the new node
    silence_ms: float   # last answer from anyone -> first answer from the new node
    lost: int           # questions sent after the fault that nobody answered, until then
    old_answers_after_fault: int  # answers from the old node after the fault


def parse_line(line: str) -> Question | Answer | None:
    """One log line; None for a torn or foreign line (the log is read while written)."""
    parts = line.split()
    try:
        if len(parts) == 3 and parts[0] == "S":
            return Question(int(parts[1]), int(parts[2]))
        if len(parts) == 6 and parts[0] == "R":
            return Answer(int(parts[1]), int(parts[2]), int(parts[3]), parts[4], parts[5])
    except ValueError:
        return None
    return None


@dataclass
class ProbeLog:
    """The log as read so far; ``feed`` takes whatever text was appended since."""

    questions: list[Question] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    _partial: str = ""

    def feed(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()  # no newline yet: the prober is still writing it
        for line in lines:
            record = parse_line(line)
            if isinstance(record, Question):
                self.questions.append(record)
            elif isinstance(record, Answer):
                self.answers.append(record)

    def steady(self, responder: str, since_ns: int, now_ns: int, gap_ns: int) -> bool:
        """RESPONDER answered since SINCE_NS, nobody else did, and it answered within GAP_NS."""
        recent = [a for a in self.answers if a.received_ns >= since_ns]
        return (bool(recent) and all(a.responder == responder for a in recent)
                and now_ns - recent[-1].received_ns <= gap_ns)

    def first_answer_from_other(self, old: str, after_ns: int) -> Answer | None:
        for answer in self.answers:
            if answer.received_ns >= after_ns and answer.responder != old:
                return answer
        return None


def measure(log: ProbeLog, old: str, fault_ns: int) -> Outage | None:
    """The outage of a fault at FAULT_NS on node OLD; None while no other node answered."""
    first = log.first_answer_from_other(old, fault_ns)
    if first is None:
        return None
    before = [a.received_ns for a in log.answers if a.received_ns < first.received_ns]
    last = max(before) if before else fault_ns
    answered = {a.seq for a in log.answers}
    lost = sum(1 for q in log.questions
               if fault_ns <= q.sent_ns < first.sent_ns and q.seq not in answered)
    old_after = sum(1 for a in log.answers
                    if a.responder == old and fault_ns <= a.received_ns < first.received_ns)
    return Outage(outage_ms=(first.received_ns - fault_ns) / 1e6,
                  silence_ms=(first.received_ns - last) / 1e6,
                  lost=lost, old_answers_after_fault=old_after)
