"""sd_notify(3) without libsystemd: tell systemd (``Type=notify``) how start-up went.

The protocol is one datagram of ``KEY=VALUE`` lines to the Unix socket named
by ``$NOTIFY_SOCKET`` (a leading ``@`` means the abstract namespace). Outside
systemd the variable is unset and every call is a no-op.
"""

from __future__ import annotations

import os
import socket


def sd_notify(*assignments: str, env: dict[str, str] | None = None) -> bool:
    """Send ``READY=1``, ``STOPPING=1``, ``STATUS=...``; False when nobody listens."""
    target = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not target or not assignments:
        return False
    if target.startswith("@"):
        target = "\0" + target[1:]
    elif not target.startswith("/"):
        return False  # vsock addresses are not for us
    payload = "\n".join(assignments).encode("utf-8", "replace")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(target)
            sock.sendall(payload)
    except OSError:
        return False  # systemd gone or a stale variable: nothing we can do about it
    return True
