"""vigil: a high-availability cluster manager, the successor to Linux-HA Heartbeat."""

__version__ = "0.1.0"
