"""``vigil compat``: Heartbeat's commands (cl_status, hb_standby, hb_takeover) on vigil.

``vigil compat install [--prefix DIR]`` writes small executables
``PREFIX/bin/cl_status``, ``hb_standby`` and ``hb_takeover`` that exec
``vigil compat NAME ARGS...``; scripts that call them keep working. Each is a
thin front-end to the control API (``vigil.cli.control_client``).
"""

from __future__ import annotations

from vigil.cli.compat.commands import compat_group

__all__ = ["compat_group"]
