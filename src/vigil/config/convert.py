"""Write a ``ClusterConfig`` as native TOML: the heart of ``vigil config convert``.

Rules of this file:
- ``read_native(to_toml(config))`` equals ``config`` (a property test holds us
  to it): every field of the model is written unless it has the default the
  reader gives an absent key.
- Output is deterministic and follows the model's order (nodes, links,
  resources, groups as they were listed); no timestamps.
- tomli-w spells every value (quoting, escapes); the layout (tables, inline
  tables, comments) is ours, so the file reads like the documented examples.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence

import tomli_w

from vigil.config.model import (
    INFINITY,
    Arbiter,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Compression,
    ConfigFormat,
    Group,
    Link,
    LinkKind,
    Logging,
    Metrics,
    Operation,
    Quorum,
    Resource,
    SourceRef,
    TargetRole,
    Web,
    WebRole,
)
from vigil.config.native_fields import format_duration
from vigil.config.native_schema import DEFAULT_RESOURCE_DIRS
from vigil.config.native_web import format_password_hash

__all__ = ["to_toml"]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_WIDTH = 100


def to_toml(config: ClusterConfig) -> str:
    """CONFIG as a commented vigil.toml that reads back to an equal model."""
    w = _Writer(legacy=config.format is ConfigFormat.LEGACY)
    w.comment(*_header(config))
    _cluster(w, config)
    _timing(w, config)
    for node in config.nodes:
        w.table("[[node]]", node.source)
        w.kv("name", node.name)
        if node.votes != 1:
            w.kv("votes", node.votes)
    for link in config.links:
        _link(w, link)
    _auth(w, config)
    _resource_defaults(w, config)
    for res in config.resources:
        _resource(w, res)
    for group in config.groups:
        _group(w, group)
    _quorum(w, config.quorum)
    _fencing(w, config)
    _connectivity(w, config)
    _logging(w, config.logging)
    for r in config.respawn:
        w.table("[[respawn]]", r.source)
        w.kv("user", r.user)
        w.kv("command", list(r.argv))
    for a in config.apiauth:
        w.table("[[apiauth]]", a.source)
        w.kv("client", a.client)
        if a.uids:
            w.kv("uid", list(a.uids))
        if a.gids:
            w.kv("gid", list(a.gids))
    _compression(w, config.compression)
    _metrics(w, config.metrics)
    _web(w, config.web)
    _arbiter(w, config.arbiter)
    _legacy(w, config)
    return w.text()


# -- spelling values ---------------------------------------------------------------


def literal(value: object) -> str:
    """VALUE as TOML, spelled by tomli-w."""
    return tomli_w.dumps({"v": value})[len("v = "):].rstrip("\n")


def key(name: str) -> str:
    return name if name and all(c in _BARE for c in name) else literal(name)


def inline(pairs: Iterable[tuple[str, object]]) -> str:
    body = ", ".join(f"{key(k)} = {literal(v)}" for k, v in pairs)
    return f"{{ {body} }}" if body else "{}"


def score(value: int) -> int | str:
    if value >= INFINITY:
        return "INFINITY"
    if value <= -INFINITY:
        return "-INFINITY"
    return value


class _Writer:
    def __init__(self, *, legacy: bool) -> None:
        self.lines: list[str] = []
        self.legacy = legacy
        self.deferred: list[tuple[str, list[tuple[str, str | int]]]] = []
        self.header = ""

    def comment(self, *text: str) -> None:
        # A control character (a newline in a path) would end the comment early.
        for t in text:
            safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in t)
            self.lines.append(f"# {safe}".rstrip())

    def table(self, header: str, source: SourceRef | None = None, note: str | None = None) -> None:
        self.flush()
        self.lines.append("")
        if note:
            self.comment(note)
        if self.legacy and source is not None and source.line is not None:
            self.comment(f"from {source.file.name}:{source.line}")
        self.lines.append(header)
        self.header = header

    def kv(self, name: str, value: object) -> None:
        if isinstance(value, list):
            self.rows(name, [literal(v) for v in value], one_line=True)
        else:
            self.lines.append(f"{key(name)} = {literal(value)}")

    def mapping(self, name: str, values: Iterable[tuple[str, str | int]]) -> None:
        """NAME = { ... } on one line, or a sub-table after this table when too wide."""
        pairs = [(k, score(v) if isinstance(v, int) else v) for k, v in values]
        line = f"{key(name)} = {inline(pairs)}"
        if len(line) <= _WIDTH:
            self.lines.append(line)
        else:
            self.deferred.append((name, pairs))

    def rows(self, name: str, rows: Sequence[str], *, one_line: bool = False) -> None:
        """NAME = [ROW, ...]: on one line if it fits (and ONE_LINE or a single row)."""
        one = f"{key(name)} = [{', '.join(rows)}]"
        if (one_line or len(rows) <= 1) and len(one) <= _WIDTH:
            self.lines.append(one)
            return
        self.lines.append(f"{key(name)} = [")
        self.lines.extend(f"    {row}," for row in rows)
        self.lines.append("]")

    def flush(self) -> None:
        """Write the sub-tables deferred by ``mapping`` under the current table."""
        deferred, self.deferred = self.deferred, []
        for name, pairs in deferred:
            parent = self.header.strip("[]")
            self.lines.append("")
            self.lines.append(f"[{parent}.{key(name)}]")
            for k, v in pairs:
                self.kv(k, v)

    def text(self) -> str:
        self.flush()
        return "\n".join(self.lines).strip("\n") + "\n"


# -- tables --------------------------------------------------------------------------


def _header(config: ClusterConfig) -> list[str]:
    out = ["vigil cluster configuration (native TOML; the format: docs/configuration.md)."]
    if config.format is ConfigFormat.LEGACY:
        out.append("Converted by `vigil config convert` from Heartbeat's files:")
    elif config.sources:
        out.append("Written by vigil from:")
    out.extend(f"  {p}" for p in config.sources)
    if any(k.secret for k in config.auth.keys.values()):
        out.append("It holds the cluster's secret keys: keep it mode 0600 (chmod 600 FILE);")
        out.append("vigil refuses to read it when group or others can.")
    return out


def _cluster(w: _Writer, c: ClusterConfig) -> None:
    w.table("[cluster]")
    w.kv("name", c.cluster_name)
    w.kv("auto_failback", c.auto_failback.value)
    if c.autojoin != "none":
        w.kv("autojoin", c.autojoin)
    if c.watchdog is not None:
        w.kv("watchdog", str(c.watchdog))
    if c.resource_dirs != DEFAULT_RESOURCE_DIRS:
        w.kv("resource_dirs", [str(d) for d in c.resource_dirs])


def _timing(w: _Writer, c: ClusterConfig) -> None:
    t = c.timing
    w.table("[timing]", note="A peer not heard for deadtime is dead; warntime logs it as late.")
    w.kv("keepalive", format_duration(t.keepalive_ms))
    w.kv("warntime", format_duration(t.warntime_ms))
    w.kv("deadtime", format_duration(t.deadtime_ms))
    w.kv("initdead", format_duration(t.initdead_ms))


def _link(w: _Writer, link: Link) -> None:
    w.table("[[link]]", link.source)
    w.kv("name", link.name)
    w.kv("kind", link.kind.value)
    if link.interface is not None:
        w.kv("interface", link.interface)
    w.kv("port", link.port)
    if link.peers:
        w.kv("peers", [str(p) for p in link.peers])
    if link.addresses:
        w.mapping("addresses", [(k, str(v)) for k, v in link.addresses.items()])
    if link.group is not None:
        w.kv("group", link.group)
    if link.kind is LinkKind.MCAST:
        w.kv("ttl", link.ttl)
        w.kv("loop", link.loop)


def _auth(w: _Writer, c: ClusterConfig) -> None:
    w.table("[auth]", note="Signs with the active key; accepts every key listed.")
    w.kv("active", c.auth.active)
    for k in c.auth.keys.values():
        _key(w, k)


def _key(w: _Writer, k: AuthKey) -> None:
    w.table("[[auth.key]]", k.source)
    w.kv("index", k.index)
    w.kv("method", k.method.value)
    if k.method is AuthMethod.CRC and not k.secret:
        return
    try:
        w.kv("secret", k.secret.decode("utf-8"))
    except UnicodeDecodeError:
        w.kv("secret_base64", base64.b64encode(k.secret).decode("ascii"))


def _resource_defaults(w: _Writer, c: ClusterConfig) -> None:
    if c.default_stickiness is None and c.migration_threshold == INFINITY \
            and c.failure_timeout_ms == 0:
        return
    w.table("[resource_defaults]")
    if c.default_stickiness is not None:
        w.kv("stickiness", score(c.default_stickiness))
    if c.migration_threshold != INFINITY:
        w.kv("migration_threshold", score(c.migration_threshold))
    if c.failure_timeout_ms:
        w.kv("failure_timeout", format_duration(c.failure_timeout_ms))


def _op(op: Operation) -> str:
    pairs: list[tuple[str, object]] = [("name", op.name)]
    if op.interval_ms:
        pairs.append(("interval", format_duration(op.interval_ms)))
    pairs.append(("timeout", format_duration(op.timeout_ms)))
    return inline(pairs)


def _resource(w: _Writer, r: Resource) -> None:
    w.table("[[resource]]", r.source)
    w.kv("id", r.id)
    w.kv("agent", str(r.agent))
    if r.args:
        w.kv("args", list(r.args))
    if r.params:
        w.mapping("params", r.params.items())
    if r.stickiness is not None:
        w.kv("stickiness", score(r.stickiness))
    if r.migration_threshold is not None:
        w.kv("migration_threshold", score(r.migration_threshold))
    if r.failure_timeout_ms is not None:
        w.kv("failure_timeout", format_duration(r.failure_timeout_ms))
    if r.target_role is not TargetRole.STARTED:
        w.kv("target_role", r.target_role.value)
    if not r.exclusive:
        w.kv("exclusive", False)
    if r.operations:
        w.rows("op", [_op(op) for op in r.operations])


def _group(w: _Writer, g: Group) -> None:
    w.table("[[group]]", g.source)
    w.kv("id", g.id)
    w.kv("resources", list(g.resources))
    if g.preferred_node is not None:
        w.kv("preferred_node", g.preferred_node)
    if g.locations:
        w.mapping("locations", g.locations.items())


def _quorum(w: _Writer, q: Quorum) -> None:
    if q == Quorum():
        return
    w.table("[quorum]")
    if q.expected_votes is not None:
        w.kv("expected_votes", q.expected_votes)
    w.kv("two_node", q.two_node)
    w.kv("wait_for_all", q.wait_for_all)
    w.kv("no_quorum_policy", q.no_quorum_policy.value)


def _fencing(w: _Writer, c: ClusterConfig) -> None:
    for d in c.fencing.devices:
        w.table("[[fence_device]]", d.source)
        w.kv("name", d.name)
        w.kv("agent", d.agent)
        if d.params:
            w.mapping("params", d.params.items())
        if d.nodes:
            w.kv("nodes", list(d.nodes))
        if d.host_map:
            w.mapping("host_map", d.host_map.items())
        w.kv("timeout", format_duration(d.timeout_ms))
        if d.delay_by_node:
            w.mapping("delay", ((n, format_duration(ms)) for n, ms in d.delay_by_node.items()))
        elif d.delay_ms:
            w.kv("delay", format_duration(d.delay_ms))
        if d.random_delay_ms:
            w.kv("random_delay", format_duration(d.random_delay_ms))
    for lv in c.fencing.levels:
        w.table("[[fencing.level]]", lv.source)
        w.kv("node", lv.node)
        w.kv("index", lv.index)
        w.kv("devices", list(lv.devices))


def _connectivity(w: _Writer, c: ClusterConfig) -> None:
    conn = c.connectivity
    if not conn.ping_nodes and conn.deadping_ms is None and conn.multiplier == 1:
        return
    w.table("[connectivity]")
    if conn.deadping_ms is not None:
        w.kv("deadping", format_duration(conn.deadping_ms))
    if conn.multiplier != 1:
        w.kv("multiplier", conn.multiplier)
    for p in conn.ping_nodes:
        w.table("[[connectivity.ping]]", p.source)
        if p.is_group or p.addresses != (p.name,):
            w.kv("name", p.name)
        w.kv("addresses", list(p.addresses))
        if p.is_group:
            w.kv("group", True)


def _logging(w: _Writer, log: Logging) -> None:
    if log == Logging():
        return
    w.table("[logging]")
    if log.logfile is not None:
        w.kv("logfile", str(log.logfile))
    if log.debugfile is not None:
        w.kv("debugfile", str(log.debugfile))
    if log.logfacility is not None:
        w.kv("facility", log.logfacility)
    if log.debug:
        w.kv("debug", log.debug)


def _compression(w: _Writer, comp: Compression) -> None:
    if comp == Compression():
        return
    w.table("[compression]")
    if comp.method is not None:
        w.kv("method", comp.method)
    w.kv("threshold_bytes", comp.threshold_bytes)


def _metrics(w: _Writer, m: Metrics) -> None:
    if not m.enabled and m.token_file is None:
        return
    w.table("[metrics]", note="Prometheus /metrics, served by each daemon (docs/metrics.md).")
    if m.listen is not None:
        w.kv("listen", str(m.listen))
    if m.addresses:
        w.mapping("addresses", [(k, str(v)) for k, v in m.addresses.items()])
    if m.token_file is not None:
        w.kv("token_file", str(m.token_file))


def _arbiter(w: _Writer, a: Arbiter | None) -> None:
    if a is None:
        return
    w.table("[arbiter]", a.source, note="The lease service that breaks ties (docs/arbiter.md).")
    w.kv("backend", a.backend.value)
    if a.address is not None:
        w.kv("address", str(a.address))
    if a.endpoints:
        w.kv("endpoints", list(a.endpoints))
    w.kv("lease_ttl", format_duration(a.lease_ttl_ms))


def _web(w: _Writer, web: Web) -> None:
    if web == Web():
        return
    w.table("[web]", note="The dashboard, served by each daemon (docs/web.md).")
    if web.listen is not None:
        w.kv("listen", str(web.listen))
    if web.addresses:
        w.mapping("addresses", [(k, str(v)) for k, v in web.addresses.items()])
    for key, path in (("certificate", web.certificate), ("key", web.key),
                      ("token_file", web.token_file)):
        if path is not None:
            w.kv(key, str(path))
    if web.token_role is not WebRole.READ_ONLY:
        w.kv("token_role", web.token_role.value)
    if web.session_timeout_ms != Web().session_timeout_ms:
        w.kv("session_timeout", format_duration(web.session_timeout_ms))
    for u in web.users:
        w.table("[[web.user]]", u.source)
        w.kv("name", u.name)
        w.kv("role", u.role.value)
        w.kv("password_hash", format_password_hash(u.password))


def _legacy(w: _Writer, c: ClusterConfig) -> None:
    if c.crm == "no" and not c.unsupported and not c.fencing.legacy:
        return
    w.table("[legacy]", note="Kept from ha.cf as written; vigil does not act on these.")
    if c.crm != "no":
        w.kv("crm", c.crm)
    if c.unsupported:
        w.kv("unsupported", list(c.unsupported))
    for s in c.fencing.legacy:
        w.table("[[legacy.stonith]]", s.source)
        w.kv("directive", s.directive)
        w.kv("words", list(s.words))

