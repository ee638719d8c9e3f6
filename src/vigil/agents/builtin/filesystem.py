"""``vigil:filesystem``: mount and unmount a file system, clearing its users first.

Start creates the mount point if needed and runs ``mount -t FSTYPE -o OPTIONS
--source DEVICE --target DIRECTORY`` (the mount command, so helpers such as
mount.nfs and ``-o loop`` work). Stop signals every process holding the mount
(cwd, root, executable, open or mapped files) with TERM, then KILL after
``term_grace_ms``, then unmounts, as ocf:heartbeat:Filesystem's force_unmount
does. Monitor checks the directory is a mount point and can be read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from vigil.agents.base import AgentContext, AgentReply, OperationRequest, ParameterError
from vigil.agents.builtin.declare import Builtin, Param, as_bool
from vigil.agents.builtin.holders import stop_holders
from vigil.agents.builtin.netns import in_netns
from vigil.agents.codes import OcfRc

_FSTYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounted_device(directory: Path, mountinfo: Path = MOUNTINFO) -> int | None:
    """The device number of what is mounted on DIRECTORY (the top mount), or None."""
    want = os.path.realpath(directory)
    found = None
    try:
        text = mountinfo.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4 and _unescape(fields[4]) == want:
            major, _, minor = fields[2].partition(":")
            found = os.makedev(int(major), int(minor))
    return found


def check_paths(params: Mapping[str, str]) -> None:
    device, directory = params["device"], params["directory"]
    if device.startswith("-") or not device.strip():
        raise ParameterError(f"device={device!r} is not a device or source")
    if not directory.startswith("/") or directory == "/":
        raise ParameterError(f"directory={directory!r} must be an absolute path, not /")
    fstype = params.get("fstype", "")
    if fstype and not _FSTYPE_RE.match(fstype):
        raise ParameterError(f"fstype={fstype!r} is not a file system type")
    for v in (device, directory, params.get("options", "")):
        if "\0" in v:
            raise ParameterError("a parameter contains a NUL byte")


def _readable(directory: Path) -> None:
    os.statvfs(directory)
    with os.scandir(directory) as it:
        next(it, None)


class Filesystem(Builtin):
    NAME = "filesystem"
    SHORTDESC = "Mount a file system; unmount it after stopping its users"
    LONGDESC = " ".join((__doc__ or "").split("\n\n", 1)[-1].replace("``", "").split())
    PARAMS = (
        Param("device", "What to mount: block device, image, nfs export, tmpfs...",
              required=True),
        Param("directory", "Mount point (created if missing)", required=True),
        Param("fstype", "File system type (default: detected by mount)"),
        Param("options", "Mount options, as mount -o takes them"),
        Param("force_unmount", "Stop processes using the file system before unmounting",
              default="true", type="boolean"),
        Param("term_grace_ms", "Time between TERM and KILL for those processes",
              default="3000", type="integer"),
    )

    def validate(self, params: Mapping[str, str]) -> None:
        check_paths(params)

    async def start(self, request: OperationRequest, params: Mapping[str, str],
                    ctx: AgentContext) -> AgentReply:
        directory = Path(params["directory"])
        if mounted_device(directory) is not None:
            return AgentReply.of(OcfRc.OK, f"{directory} is already mounted")
        directory.mkdir(parents=True, exist_ok=True)
        argv = ["mount"]
        if params.get("fstype"):
            argv += ["-t", params["fstype"]]
        if params.get("options"):
            argv += ["-o", params["options"]]
        argv += ["--source", params["device"], "--target", str(directory)]
        out = await ctx.run_program(tuple(argv), {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                  "LC_ALL": "C"}, request.timeout_ms)
        if out.exit_code != 0 or mounted_device(directory) is None:
            why = "timed out" if out.timed_out else f"exit {out.exit_code}"
            return AgentReply.of(OcfRc.ERR_GENERIC,
                                 f"mount {params['device']} on {directory} failed ({why}): "
                                 f"{out.output.strip()}", out.output)
        return AgentReply.of(OcfRc.OK, f"mounted {params['device']} on {directory}")

    async def stop(self, request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> AgentReply:
        directory = Path(params["directory"])
        dev = mounted_device(directory)
        if dev is None:
            return AgentReply.of(OcfRc.OK, f"{directory} is not mounted")
        note = ""
        # Never clear the users of the file system the mount point sits on.
        parent_dev = os.stat(directory.parent).st_dev
        if as_bool(params["force_unmount"]) and dev not in (parent_dev, os.stat("/").st_dev):
            grace = int(params["term_grace_ms"]) / 1000
            termed, killed = await in_netns(None, lambda: stop_holders(dev, grace))
            if termed:
                note = f"; stopped {len(termed)} process(es) using it"
                if killed:
                    note += f", {len(killed)} with KILL"
        out = await ctx.run_program(("umount", str(directory)),
                                    {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
                                    request.timeout_ms)
        if mounted_device(directory) == dev:
            return AgentReply.of(OcfRc.ERR_GENERIC,
                                 f"umount {directory} failed (exit {out.exit_code}): "
                                 f"{out.output.strip()}{note}", out.output)
        return AgentReply.of(OcfRc.OK, f"unmounted {directory}{note}")

    async def monitor(self, request: OperationRequest, params: Mapping[str, str],
                      ctx: AgentContext) -> AgentReply:
        directory = Path(params["directory"])
        if mounted_device(directory) is None:
            return AgentReply.of(OcfRc.NOT_RUNNING, f"{directory} is not mounted")
        try:
            await in_netns(None, lambda: _readable(directory))
        except OSError as e:
            return AgentReply.of(OcfRc.ERR_GENERIC, f"{directory} is mounted but unreadable: {e}")
        return AgentReply.of(OcfRc.OK, f"{directory} is mounted and readable")
