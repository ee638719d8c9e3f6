"""Whatever the legacy files hold, reading them ends in diagnostics, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.config import load
from vigil.config.hacf_directives import ALL_DIRECTIVES

TRICKY = [
    "", "0", "1", "-1", "²", "٣", "1.5", ".5", "1.5ms", "2s", "250us", "99999999999999999999",
    "10.0.0.1", "10.0.0.256", "239.192.0.1", "fe80::1", "eth0", "eth0:1", "a" * 40, "::",
    "IPaddr::", "IPaddr::10.0.0.5/24/eth0/10.0.0.255", "Filesystem::/dev/x::/mnt",
    "10.0.0.5;rm", "uid=", "gid=a,b", "uid=root", "=x", "A=b", "*", "/bin/true", "none",
    "legacy", "on", "off", "respawn", "\\", "#", ",", "node0", "NODE0", "auth", "crc", "md5",
    "sha1", "\t", "\x0c", "\udcff",
]
WORDS = st.sampled_from([*sorted(ALL_DIRECTIVES), "node0", "node1", "auth", *TRICKY])
LINE = st.lists(WORDS, max_size=7).map(" ".join)
TEXT = st.lists(LINE, max_size=12).map("\n".join) | st.text(max_size=200)


def _write(root: Path, name: str, text: str) -> None:
    (root / name).write_bytes(text.encode("utf-8", "surrogateescape"))


@settings(max_examples=300, deadline=None)
@given(ha_cf=TEXT, haresources=TEXT, authkeys=TEXT, mode=st.sampled_from([0o600, 0o644]))
def test_any_legacy_files_give_diagnostics_with_hints_and_real_lines(
        ha_cf: str, haresources: str, authkeys: str, mode: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = {"ha.cf": ha_cf, "haresources": haresources, "authkeys": authkeys}
        for name, text in files.items():
            _write(root, name, text)
        (root / "authkeys").chmod(mode)
        result = load(root)
        for d in result.diagnostics:
            assert d.hint, d.format()
            if d.line is not None:
                assert d.file.name in files
                assert 1 <= d.line <= files[d.file.name].count("\n") + 1, d.format()
        assert result.ok == (result.config is not None)
