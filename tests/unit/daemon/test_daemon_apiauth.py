"""apiauth: the users it names may use the control socket, others are refused."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from prereqs import require_root
from vigil.config import ApiAuth
from vigil.daemon.apiauth import ApiAccess, Peer
from vigil.daemon.control import ControlServer

CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd": "ping"}\\n')
print(s.makefile().readline(), end="")
"""


def test_users_and_groups_named_by_apiauth_are_allowed_and_others_are_not() -> None:
    access = ApiAccess.from_config((ApiAuth("ipfail", uids=("nobody",), gids=("daemon",)),))
    nobody = pwd.getpwnam("nobody").pw_uid
    assert access.socket_mode == 0o666
    assert access.allows(Peer(1, nobody, 12345, frozenset()))
    assert access.allows(Peer(1, 4242, 4242, frozenset({access_gid("daemon")})))
    assert not access.allows(Peer(1, 4242, 4242, frozenset()))
    assert access.allows(Peer(1, 0, 0, frozenset()))  # root always


def access_gid(name: str) -> int:
    import grp

    return grp.getgrnam(name).gr_gid


def test_without_apiauth_the_socket_stays_owner_only() -> None:
    assert ApiAccess.from_config(()).socket_mode == 0o600


def test_an_unknown_user_in_apiauth_is_reported_not_granted() -> None:
    access = ApiAccess.from_config((ApiAuth("pingd", uids=("no-such-user-xyz",)),))
    assert not access.uids
    assert access.problems == ("apiauth pingd: no user 'no-such-user-xyz' on this node",)


def _ask_as(user: str, path: Path) -> dict[str, object]:
    # the system python: the venv's may sit under a home directory USER cannot enter
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    out = subprocess.run([python, "-c", CLIENT, str(path)], user=user, cwd="/",
                         capture_output=True, text=True, timeout=10, check=True)
    reply = json.loads(out.stdout)
    assert isinstance(reply, dict)
    return reply


@pytest.mark.parametrize(("apiauth", "allowed"), [
    ((ApiAuth("ipfail", uids=("nobody",)),), True),
    ((ApiAuth("ipfail", uids=("daemon",)),), False),
    ((), False),
], ids=["named-user", "other-user-named", "no-apiauth"])
def test_control_socket_answers_only_the_users_apiauth_allows(
        apiauth: tuple[ApiAuth, ...], allowed: bool) -> None:
    require_root()

    async def scenario(path: Path) -> dict[str, object]:
        server = ControlServer(path, {"ping": lambda _r: {"pong": True}},
                               access=ApiAccess.from_config(apiauth))
        await server.start()
        try:
            return await asyncio.to_thread(_ask_as, "nobody", path)
        finally:
            await server.close()

    with tempfile.TemporaryDirectory(prefix="vigil-apiauth-") as tmp:
        os.chmod(tmp, 0o755)  # nobody must reach the socket to be refused by us, not by the fs
        path = Path(tmp) / "vigil.sock"
        if not apiauth:
            # mode 0600: the file system refuses before we are asked
            with pytest.raises(subprocess.CalledProcessError):
                asyncio.run(scenario(path))
            return
        reply = asyncio.run(scenario(path))
    if allowed:
        assert reply == {"ok": True, "result": {"pong": True}}
    else:
        assert reply["ok"] is False
        assert "permission denied" in str(reply["error"])
