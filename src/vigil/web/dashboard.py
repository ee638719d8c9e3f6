"""Start a node's dashboard as ``[web]`` says, without loading aiohttp when it is off.

The daemon calls ``serve_dashboard`` once at start with the control API's
handlers; a daemon without ``[web]`` for its node never imports the HTTP
server (nothing in memory, nothing on the loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from vigil.config import ClusterConfig
from vigil.daemon.control import Handler
from vigil.exitcodes import VigilError
from vigil.web.metrics import read_token

if TYPE_CHECKING:
    from vigil.web.server import DashboardServer

__all__ = ["serve_dashboard"]


async def serve_dashboard(config: ClusterConfig, node: str,
                          handlers: Mapping[str, Handler]) -> DashboardServer | None:
    """Start NODE's dashboard; None when ``[web]`` serves nothing on NODE."""
    endpoint = config.web.address_for(node)
    if endpoint is None:
        return None
    from vigil.web.server import DashboardServer

    token = None
    if config.web.token_file is not None:
        try:
            token = read_token(config.web.token_file)
        except VigilError as e:
            raise VigilError(e.message.replace("[metrics]", "[web]"), hint=e.hint) from e
    server = DashboardServer(config.web, endpoint, node, handlers, token=token)
    await server.start()
    return server
