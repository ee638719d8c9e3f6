"""Read a native ``vigil.toml`` into the one ``ClusterConfig`` model.

Rules of this file:
- tomllib parses; ``toml_lines`` finds the line of every key, so each problem
  is reported as FILE:LINE with a hint, and every problem in the file is found
  in one reading (nothing raises on bad input).
- The format is documented in docs/configuration.md; its names and defaults
  live in ``native_schema``. Anything the model holds can be written here, so
  ``convert.to_toml`` followed by ``read_native`` gives an equal model.
- A file holding inline secrets is refused when group or others can read it,
  as Heartbeat refuses such an authkeys (``files.check_private``).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.files import check_private
from vigil.config.model import (
    INFINITY,
    ApiAuth,
    AutoFailback,
    ClusterConfig,
    Compression,
    ConfigFormat,
    Fencing,
    LegacyStonith,
    Logging,
    NoQuorumPolicy,
    Quorum,
    Respawn,
    SourceRef,
)
from vigil.config.native_arbiter import read_arbiter
from vigil.config.native_cluster import (
    read_auth,
    read_connectivity,
    read_links,
    read_metrics,
    read_nodes,
    read_timing,
)
from vigil.config.native_fencing import read_fence_devices, read_fence_levels
from vigil.config.native_fields import Reader, Table
from vigil.config.native_resources import (
    read_groups,
    read_resources,
    read_threshold,
    warn_not_installed,
)
from vigil.config.native_schema import (
    APIAUTH_KEYS,
    CLUSTER_KEYS,
    COMPRESSION_KEYS,
    COMPRESSION_METHODS,
    CRM_VALUES,
    DEFAULT_RESOURCE_DIRS,
    DEFAULTS_KEYS,
    LEGACY_KEYS,
    LOGGING_KEYS,
    QUORUM_KEYS,
    RESPAWN_KEYS,
    STONITH_KEYS,
    SYSLOG_FACILITIES,
    TOP_KEYS,
)
from vigil.config.native_web import read_web
from vigil.config.toml_lines import locate

__all__ = ["read_native"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$|\s*\(at end of document\)$")
FORMAT_HINT = "see docs/configuration.md for the format (TOML 1.0)"


def read_native(path: Path, diags: Diagnostics) -> ClusterConfig | None:
    """Read PATH; report every problem in DIAGS; the model, or None if any error."""
    text = _read_text(path, diags)
    if text is None:
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = _TOML_POSITION.search(message)
        if m is None or m.group(1) is None:
            line = text.count("\n") + 1 if m is not None else None
        else:
            line = int(m.group(1))
        reason = _TOML_POSITION.sub("", message)
        diags.error(path, line, f"not valid TOML: {reason[:1].lower()}{reason[1:]}",
                    FORMAT_HINT)
        return None
    reader = Reader(path, diags, locate(text))
    top = reader.table(doc, (), "", TOP_KEYS)
    errors_before = sum(1 for d in diags.items if d.is_error)
    config = _read_document(top, path)
    if config is None or sum(1 for d in diags.items if d.is_error) > errors_before:
        return None
    return config


def _read_text(path: Path, diags: Diagnostics) -> str | None:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        diags.error(path, None, "is a directory, not a .toml file")
        return None
    except OSError as e:
        diags.error(path, None, f"cannot read: {e.strerror or e}",
                    "check the path and that vigil may read it")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        diags.error(path, line, f"not UTF-8 text (byte 0x{data[e.start]:02x}): "
                    "a TOML file is UTF-8", "is this the right file? binary garbage?")
        return None


def _read_document(top: Table, path: Path) -> ClusterConfig | None:
    reader = top.reader
    if not top.data:
        reader.error((), "the file holds no configuration (it is empty or all comments)",
                     "start from examples/native/vigil.toml")
    nodes = read_nodes(top)
    names = tuple(n.name for n in nodes)
    links = read_links(top, names)
    timing = read_timing(top)
    auth = read_auth(top)
    resources = read_resources(top)
    groups = read_groups(top, names, resources)
    cluster = _Cluster(top)
    defaults = top.table("resource_defaults", "[resource_defaults]", DEFAULTS_KEYS)
    if defaults is None:
        defaults = reader.table({}, ("resource_defaults",), "[resource_defaults]", DEFAULTS_KEYS)
    stickiness = defaults.score("stickiness")
    threshold = read_threshold(defaults, INFINITY) or INFINITY
    failure_timeout = defaults.duration("failure_timeout", 0)
    defaults.done()
    quorum = _read_quorum(top, len(nodes), sum(n.votes for n in nodes))
    logging = _read_logging(top)
    connectivity = read_connectivity(top, timing.keepalive_ms)
    respawn = _read_respawn(top)
    apiauth = _read_apiauth(top)
    devices = read_fence_devices(top, names)
    levels = read_fence_levels(top, names, devices)
    compression = _read_compression(top)
    metrics = read_metrics(top, names)
    web = read_web(top, names)
    arbiter = read_arbiter(top)
    crm, unsupported, stonith = _read_legacy(top)
    top.done()
    warn_not_installed(top, resources, cluster.resource_dirs)
    if auth.inline_secret:
        check_private(path, reader.diags)
    if auth.auth is None:
        return None
    return ClusterConfig(
        nodes=nodes,
        links=links,
        timing=timing,
        auth=auth.auth,
        resources=resources,
        groups=groups,
        cluster_name=cluster.name,
        auto_failback=cluster.auto_failback,
        default_stickiness=stickiness,
        migration_threshold=threshold,
        failure_timeout_ms=failure_timeout,
        quorum=quorum,
        logging=logging,
        connectivity=connectivity,
        respawn=respawn,
        apiauth=apiauth,
        watchdog=cluster.watchdog,
        fencing=Fencing(devices, stonith, levels),
        compression=compression,
        metrics=metrics,
        arbiter=arbiter,
        web=web,
        autojoin=cluster.autojoin,
        crm=crm,
        resource_dirs=cluster.resource_dirs,
        unsupported=unsupported,
        format=ConfigFormat.NATIVE,
        sources=(path, *auth.key_files),
    )


class _Cluster:
    """[cluster]: name, failback, autojoin, watchdog, where resource scripts live."""

    def __init__(self, top: Table) -> None:
        t = top.table("cluster", "[cluster]", CLUSTER_KEYS)
        if t is None:
            t = top.reader.table({}, ("cluster",), "[cluster]", CLUSTER_KEYS)
        self.name = t.string("name", "vigil") or "vigil"
        if not self.name.strip() or not self.name.isprintable():
            t.error("name", f"[cluster]: bad cluster name {self.name!r}")
        failback = t.data.get("auto_failback")
        if isinstance(failback, bool):  # auto_failback = true reads as "on"
            self.auto_failback = AutoFailback.ON if failback else AutoFailback.OFF
        else:
            word = t.string("auto_failback", "on", choices=[a.value for a in AutoFailback])
            self.auto_failback = AutoFailback(word or "on")
        self.autojoin = t.string("autojoin", "none", choices=("none", "other", "any")) or "none"
        watchdog = t.string("watchdog")
        if watchdog is not None and not watchdog:
            t.error("watchdog", "[cluster]: watchdog is empty", "omit it, or give a device path")
        self.watchdog = Path(watchdog) if watchdog else None
        dirs = t.str_list("resource_dirs")
        self.resource_dirs = (DEFAULT_RESOURCE_DIRS if dirs is None
                              else tuple(Path(d) for d in dirs))
        t.done()


def _read_quorum(top: Table, node_count: int, votes: int) -> Quorum:
    t = top.table("quorum", "[quorum]", QUORUM_KEYS)
    if t is None:
        return Quorum()
    expected = t.integer("expected_votes", None, minimum=1)
    two_node = t.boolean("two_node", False)
    # as corosync's votequorum: two_node turns wait_for_all on unless said otherwise, so a
    # node that boots alone after a split does not start services the other still runs
    wait_for_all = t.boolean("wait_for_all", two_node)
    policy = t.string("no_quorum_policy", "stop", choices=[p.value for p in NoQuorumPolicy])
    t.done()
    if two_node and node_count != 2:
        t.error("two_node", f"[quorum]: two_node is for clusters of exactly 2 nodes, "
                f"this one has {node_count}", "remove two_node")
    if expected is not None and votes and expected < votes:
        t.warning("expected_votes", f"[quorum]: expected_votes {expected} is less than the "
                  f"{votes} votes of the nodes: a minority could have quorum",
                  "remove expected_votes, or raise it")
    return Quorum(expected, two_node, wait_for_all, NoQuorumPolicy(policy or "stop"))


def _read_logging(top: Table) -> Logging:
    t = top.table("logging", "[logging]", LOGGING_KEYS)
    if t is None:
        return Logging()
    logfile = t.string("logfile")
    debugfile = t.string("debugfile")
    facility = t.string("facility", choices=SYSLOG_FACILITIES,
                        hint="omit facility to log to no syslog facility")
    debug = t.integer("debug", 0, minimum=0, maximum=255) or 0
    for key, value in (("logfile", logfile), ("debugfile", debugfile)):
        if value is not None and not value:
            t.error(key, f"[logging]: {key} is empty", "omit it, or give a file path")
    t.done()
    return Logging(Path(logfile) if logfile else None, Path(debugfile) if debugfile else None,
                   facility, debug)


def _read_respawn(top: Table) -> tuple[Respawn, ...]:
    out: list[Respawn] = []
    for t in top.tables("respawn", "[[respawn]]", RESPAWN_KEYS):
        user = t.string("user", required=True, hint='user = "hacluster" (who runs the program)')
        raw = t.data.get("command")
        argv: tuple[str, ...] | None
        if isinstance(raw, str):
            try:
                argv = tuple(shlex.split(raw))
            except ValueError as e:
                t.error("command", f"[[respawn]]: command: {e}")
                argv = None
        else:
            argv = t.str_list("command")
        t.done()
        if not argv:
            if argv is not None or "command" not in t.data:
                t.error("command" if "command" in t.data else None,
                        "[[respawn]]: command is missing or empty",
                        'command = ["/usr/lib/heartbeat/ipfail"]')
            continue
        if user is None:
            continue
        out.append(Respawn(user, argv, SourceRef(t.reader.file, t.line())))
    return tuple(out)


def _read_apiauth(top: Table) -> tuple[ApiAuth, ...]:
    out: list[ApiAuth] = []
    for t in top.tables("apiauth", "[[apiauth]]", APIAUTH_KEYS):
        client = t.string("client", required=True, hint='client = "ipfail"')
        uids = t.str_list("uid", allow_string=True) or ()
        gids = t.str_list("gid", allow_string=True) or ()
        t.done()
        if client is not None:
            out.append(ApiAuth(client, uids, gids, SourceRef(t.reader.file, t.line())))
    return tuple(out)


def _read_compression(top: Table) -> Compression:
    t = top.table("compression", "[compression]", COMPRESSION_KEYS)
    if t is None:
        return Compression()
    method = t.string("method", choices=COMPRESSION_METHODS, hint="omit method for no compression")
    threshold = t.integer("threshold_bytes", Compression().threshold_bytes, minimum=1)
    t.done()
    return Compression(method, threshold or Compression().threshold_bytes)


def _read_legacy(top: Table) -> tuple[str, tuple[str, ...], tuple[LegacyStonith, ...]]:
    """[legacy]: what `vigil config convert` keeps from ha.cf that vigil does not act on."""
    t = top.table("legacy", "[legacy]", LEGACY_KEYS)
    if t is None:
        return "no", (), ()
    crm = t.string("crm", "no") or "no"
    if crm.lower() not in CRM_VALUES:
        t.error("crm", f"[legacy]: crm = {crm!r} is not a value Heartbeat accepted",
                f"one of {', '.join(CRM_VALUES)}")
    unsupported = t.str_list("unsupported") or ()
    for i, what in enumerate(unsupported):
        t.reader.warning(t.at("unsupported", i), f"[legacy]: {what!r} is kept from ha.cf "
                         "but vigil does not act on it")
    stonith: list[LegacyStonith] = []
    for s in t.tables("stonith", "[[legacy.stonith]]", STONITH_KEYS):
        directive = s.string("directive", required=True, choices=("stonith", "stonith_host"))
        words = s.str_list("words") or ()
        s.done()
        if directive is None:
            continue
        s.warning(None, f"[[legacy.stonith]]: ha.cf {directive} line kept as written; vigil "
                  "fences with [[fence_device]]", "describe the device as a [[fence_device]]")
        stonith.append(LegacyStonith(directive, words, SourceRef(s.reader.file, s.line())))
    t.done()
    return crm, unsupported, tuple(stonith)
