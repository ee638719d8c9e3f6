"""The native format's vocabulary: tables, their keys, defaults and allowed words.

One place for what docs/configuration.md documents, so the reader
(``native``), the writer (``convert``) and the tests agree on every name.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AGENT_CLASSES",
    "APIAUTH_KEYS",
    "ARBITER_KEYS",
    "AUTH_KEYS",
    "BUILTIN_AGENTS",
    "CLUSTER_KEYS",
    "COMPRESSION_KEYS",
    "COMPRESSION_METHODS",
    "CONNECTIVITY_KEYS",
    "CRM_VALUES",
    "DEFAULTS_KEYS",
    "DEFAULT_DEADTIME_KEEPALIVES",
    "DEFAULT_INITDEAD_DEADTIMES",
    "DEFAULT_KEEPALIVE_MS",
    "DEFAULT_LEASE_TTL_MS",
    "DEFAULT_OP_TIMEOUT_MS",
    "DEFAULT_PORT",
    "DEFAULT_RESOURCE_DIRS",
    "FENCE_KEYS",
    "FENCING_KEYS",
    "GROUP_KEYS",
    "KEY_KEYS",
    "LEGACY_KEYS",
    "LEVEL_KEYS",
    "LINK_KEYS",
    "LOGGING_KEYS",
    "MAX_AUTH_INDEX",
    "MAX_FENCE_LEVEL",
    "METRICS_KEYS",
    "NODE_KEYS",
    "ONE_SHOT_OPS",
    "OP_KEYS",
    "PING_KEYS",
    "QUORUM_KEYS",
    "RESOURCE_KEYS",
    "RESPAWN_KEYS",
    "STONITH_KEYS",
    "SYSLOG_FACILITIES",
    "TIMING_KEYS",
    "TOP_KEYS",
    "WEB_KEYS",
    "WEB_USER_KEYS",
]

#: vigil's UDP port when a [[link]] names none. Not Heartbeat's 694 (privileged,
#: and a Heartbeat still running during a migration holds it) nor Corosync's
#: 5404/5405 (Pacemaker may run on the same hosts); 694 with a zero, above 1024
#: so an unprivileged daemon (tests, the loopback demo) can bind it, and below
#: Linux's ephemeral range (32768-60999) so no outgoing socket already has it.
DEFAULT_PORT = 6940
#: A link uses its port for heartbeats and the next one for control messages.
MAX_LINK_PORT = 65534

#: Timing defaults. Only keepalive has a fixed default; the others follow from
#: it unless written: deadtime = 15 keepalives (a peer is declared dead only
#: after fifteen heartbeats in a row are lost: at 20% loss that is 0.2^15 ~ 3e-11
#: per heartbeat, so even a 32-node cluster on one lossy link sees no false
#: failover in years), warntime = deadtime / 2, initdead = 3 x deadtime.
#: With nothing written: 200 ms, 1500 ms, 3000 ms, 9000 ms.
DEFAULT_KEEPALIVE_MS = 200
DEFAULT_DEADTIME_KEEPALIVES = 15
DEFAULT_INITDEAD_DEADTIMES = 3

#: An operation without a timeout gets Pacemaker's default, 20 s.
DEFAULT_OP_TIMEOUT_MS = 20_000
#: Operations that run once: their interval must be 0 (as Pacemaker).
ONE_SHOT_OPS = ("start", "stop", "promote", "demote", "migrate_to", "migrate_from",
                "meta-data", "validate-all", "reload", "notify")

DEFAULT_RESOURCE_DIRS = (Path("/etc/ha.d/resource.d"), Path("/etc/init.d"))

#: Heartbeat keeps MAXAUTH = 16 keys, indexes 0 to 15.
MAX_AUTH_INDEX = 15
#: Fencing levels per node are numbered 1 to 9, as Pacemaker's fencing-topology.
MAX_FENCE_LEVEL = 9

AGENT_CLASSES = ("ocf", "lsb", "heartbeat", "systemd", "vigil")
BUILTIN_AGENTS = ("ipaddr", "macaddr", "filesystem", "dummy")
COMPRESSION_METHODS = ("zlib", "bz2")
SYSLOG_FACILITIES = ("auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail",
                     "news", "security", "syslog", "user", "uucp", "local0", "local1",
                     "local2", "local3", "local4", "local5", "local6", "local7")
#: ha.cf ``crm``: a boolean word or one of Heartbeat's release-2 modes.
CRM_VALUES = ("no", "yes", "off", "on", "false", "true", "n", "y", "0", "1",
              "respawn", "minimal", "manual", "ccm-only", "valgrind")

TOP_KEYS = ("cluster", "timing", "node", "link", "auth", "resource_defaults", "resource",
            "group", "quorum", "fence_device", "fencing", "connectivity", "logging", "respawn",
            "apiauth", "compression", "metrics", "web", "legacy",
            "arbiter")
CLUSTER_KEYS = ("name", "auto_failback", "autojoin", "watchdog", "resource_dirs")
TIMING_KEYS = ("keepalive", "warntime", "deadtime", "initdead")
NODE_KEYS = ("name", "votes")
LINK_KEYS = ("name", "kind", "interface", "port", "peers", "addresses", "group", "ttl",
             "loop")
AUTH_KEYS = ("active", "key")
KEY_KEYS = ("index", "method", "secret", "secret_base64", "key_file")
DEFAULTS_KEYS = ("stickiness", "migration_threshold", "failure_timeout")
RESOURCE_KEYS = ("id", "agent", "args", "params", "op", "stickiness", "migration_threshold",
                 "failure_timeout", "target_role", "exclusive")
OP_KEYS = ("name", "interval", "timeout")
GROUP_KEYS = ("id", "resources", "preferred_node", "locations")
ARBITER_KEYS = ("backend", "address", "endpoints", "lease_ttl")
#: An arbitrator's lease lasts 30 s unless written: longer than the default stop
#: timeout (20 s) plus the margin, as ``config check`` requires.
DEFAULT_LEASE_TTL_MS = 30_000
QUORUM_KEYS = ("expected_votes", "two_node", "wait_for_all", "no_quorum_policy")
FENCE_KEYS = ("name", "agent", "params", "nodes", "host_map", "timeout", "delay",
              "random_delay")
FENCING_KEYS = ("level",)
LEVEL_KEYS = ("node", "index", "devices")
CONNECTIVITY_KEYS = ("deadping", "multiplier", "ping")
PING_KEYS = ("name", "addresses", "group")
LOGGING_KEYS = ("logfile", "debugfile", "facility", "debug")
RESPAWN_KEYS = ("user", "command")
APIAUTH_KEYS = ("client", "uid", "gid")
COMPRESSION_KEYS = ("method", "threshold_bytes")
METRICS_KEYS = ("listen", "addresses", "token_file")
WEB_KEYS = ("listen", "addresses", "certificate", "key", "user", "token_file", "token_role",
            "session_timeout")
WEB_USER_KEYS = ("name", "role", "password_hash")
LEGACY_KEYS = ("crm", "unsupported", "stonith")
STONITH_KEYS = ("directive", "words")
