"""Failover outage of vigil against keepalived and Heartbeat 3.0.6, side by side.

    sudo .venv/bin/python -m bench.failover [--runs 5] [--peers vigil,keepalived,heartbeat]
                                            [--faults crash,stop,switchover] [--json]

Two nodes and a client in network namespaces on one bridge; each node runs a
responder that answers with its name; the client asks the virtual IP every
10 ms without ever flushing its ARP cache. Outage is the time from the fault
to the first answer from the other node. See docs/benchmarks.md.

This is a benchmark: it prints figures and asserts nothing.
"""

__all__: list[str] = []
