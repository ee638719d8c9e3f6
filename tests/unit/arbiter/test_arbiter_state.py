"""The arbitrator's state file and command line: what survives, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.arbiter import LeaseRecord, StateFileError, load_record, save_record
from vigil.cli.arbiter_cmd import parse_listen
from vigil.config import NodeName
from vigil.exitcodes import VigilError


def test_state_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "arbiter.state"
    assert load_record(path) == LeaseRecord()
    record = LeaseRecord(17, NodeName("alpha"), (NodeName("alpha"), NodeName("gamma")), 4)
    save_record(path, record)
    assert load_record(path) == record
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("text", ["", "{}", '{"token": -1}', '{"token": "7"}', "not json"])
def test_damaged_state_file_stops_the_arbiter_instead_of_reusing_tokens(
        tmp_path: Path, text: str) -> None:
    path = tmp_path / "arbiter.state"
    path.write_text(text)
    with pytest.raises(StateFileError, match="not an arbiter state file"):
        load_record(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.10:5406", ("192.0.2.10", 5406)),
    ("[2001:db8::10]:5406", ("2001:db8::10", 5406)),
    ("0.0.0.0:0", ("0.0.0.0", 0)),
])
def test_listen_address_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["5406", "host:", ":5406", "host:99999", "host:port"])
def test_listen_without_addr_and_port_is_a_usage_error(text: str) -> None:
    with pytest.raises(VigilError, match="is not ADDR:PORT"):
        parse_listen(text)
