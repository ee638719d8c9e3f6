"""A Heartbeat configuration directory (``ha.cf``, ``haresources``, ``authkeys``) as one model.

Rules of this file:

- All three files are read whatever the others hold, so one run reports
  every problem; the model is built only when there is no error.
- ``haresources`` nodes must be ``ha.cf`` nodes (config.c
  ``parse_ha_resources``: "Bad nodename").
- ``crm`` on (yes, respawn, ...): Heartbeat ignored haresources and took its
  resources from the CIB (cib.xml), which vigil does not read. vigil reads
  haresources anyway and warns. With crm off Heartbeat refused to start without
  a haresources file; so do we.
- Resource scripts are looked up in DIR/resource.d (DIR is /etc/ha.d on a
  real node), then /etc/ha.d/resource.d and /etc/init.d: ResourceManager's
  HA_RESOURCEDIR and INITDIR.
- Quorum: Heartbeat's haresources mode had none; a lone survivor took over
  everything. A two-node cluster keeps that (``two_node``: one vote is
  quorum); with three or more nodes a partition needs a majority, which is
  stricter than Heartbeat and is what keeps a resource from running twice.
"""

from __future__ import annotations

from pathlib import Path

from vigil.config.authkeys import read_authkeys
from vigil.config.diagnostics import Diagnostics
from vigil.config.hacf import HaCf, read_hacf
from vigil.config.haresources import HaResources, read_haresources
from vigil.config.model import ClusterConfig, ConfigFormat, Fencing, Quorum

__all__ = ["HEARTBEAT_RESOURCE_DIRS", "read_legacy", "resource_dirs"]

#: Where Heartbeat's ResourceManager looked for scripts (HA_RESOURCEDIR, INITDIR).
HEARTBEAT_RESOURCE_DIRS = (Path("/etc/ha.d/resource.d"), Path("/etc/init.d"))


def resource_dirs(directory: Path) -> tuple[Path, ...]:
    """DIRECTORY's own resource.d, then Heartbeat's directories, without repeats."""
    dirs: list[Path] = []
    for d in (directory.absolute() / "resource.d", *HEARTBEAT_RESOURCE_DIRS):
        if d not in dirs:
            dirs.append(d)
    return tuple(dirs)


def read_legacy(directory: Path, diags: Diagnostics) -> ClusterConfig | None:
    """Read the legacy files in DIRECTORY; problems go to DIAGS; None when there is an error."""
    hacf = read_hacf(directory / "ha.cf", diags)
    dirs = resource_dirs(directory)
    resources = _read_resources(directory / "haresources", hacf, dirs, diags)
    auth = read_authkeys(directory / "authkeys", diags)
    if diags.has_errors or hacf is None or hacf.timing is None or auth is None:
        return None
    if resources is None:
        return None
    sources = tuple(p for p in (hacf.path, directory / "haresources", directory / "authkeys")
                    if p.exists())
    return ClusterConfig(
        nodes=tuple(hacf.nodes),
        links=hacf.links,
        timing=hacf.timing,
        auth=auth,
        resources=resources.resources,
        groups=resources.groups,
        cluster_name=hacf.cluster_name,
        auto_failback=hacf.auto_failback,
        quorum=Quorum(two_node=len(hacf.nodes) == 2),
        logging=hacf.logging,
        connectivity=hacf.connectivity,
        respawn=tuple(hacf.respawn),
        apiauth=tuple(hacf.apiauth),
        watchdog=hacf.watchdog,
        fencing=Fencing(legacy=tuple(hacf.stonith)),
        compression=hacf.compression,
        autojoin=hacf.autojoin,
        crm=hacf.crm,
        resource_dirs=dirs,
        unsupported=tuple(hacf.unsupported),
        format=ConfigFormat.LEGACY,
        sources=sources,
    )


def _read_resources(path: Path, hacf: HaCf | None, dirs: tuple[Path, ...],
                    diags: Diagnostics) -> HaResources | None:
    """haresources, checked against ha.cf; the crm rules above."""
    crm_on = hacf is not None and not hacf.manages_resources
    if not path.exists():
        if hacf is not None and crm_on:
            diags.warning(hacf.path, hacf.crm_line, f"crm {hacf.crm}: Heartbeat took the "
                          "resources from the CIB (cib.xml), which vigil does not read, and "
                          "there is no haresources: this cluster runs no resources",
                          "write the resources in haresources or vigil.toml")
            return HaResources((), ())
        diags.error(path, None, "no haresources file (Heartbeat refused to start without one "
                    "unless crm was on)", "create it; leave it empty if the cluster runs no "
                    "resources")
        return None
    if hacf is not None and crm_on:
        diags.warning(hacf.path, hacf.crm_line, f"crm {hacf.crm}: Heartbeat ignored haresources "
                      "and took the resources from the CIB (cib.xml); vigil does not read the "
                      f"CIB and runs what {path.name} says",
                      "check that haresources says what the CIB said, then remove the crm line")
    nodes = [n.name for n in hacf.nodes] if hacf is not None and hacf.nodes else None
    return read_haresources(path, diags, nodes, dirs)
