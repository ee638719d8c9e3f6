"""What the executor costs: one monitor through it against calling the agent directly,
and how many monitors per second one node sustains.

    sudo .venv/bin/python bench/executor.py [--runs 200] [--seconds 3]

Prints a table; asserts nothing. Needs Debian's resource-agents for the OCF rows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from vigil.agents import AgentContext, OperationRequest, ProgramOutcome, builtins
from vigil.config import AgentSpec, Operation, Resource, ResourceId
from vigil.executor import Executor

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")


async def median_ms(fn: Callable[[], Awaitable[object]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def ocf_env(state: Path) -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "bench", "OCF_RESKEY_state": str(state),
            "OCF_RESKEY_CRM_meta_interval": "10000", "OCF_RESKEY_CRM_meta_timeout": "20000"}


async def overhead(tmp: Path, runs: int) -> list[tuple[str, float, float]]:
    rows = []
    state = tmp / "builtin.state"
    state.touch()
    ex = Executor([Resource(ResourceId("b"), AgentSpec("vigil", "dummy"),
                            params={"state": str(state)},
                            operations=(Operation("monitor", 10_000, 20_000),))],
                  state_dir=tmp)
    dummy = builtins()["dummy"]

    async def never(argv: tuple[str, ...], env: object, timeout_ms: int) -> ProgramOutcome:
        raise AssertionError

    ctx = AgentContext(run_program=never, state_dir=tmp)
    req = OperationRequest("monitor", "b", 20_000, params={"state": str(state)},
                           interval_ms=10_000)
    direct = await median_ms(lambda: dummy.run(req, ctx), runs)
    through = await median_ms(lambda: ex.run(ResourceId("b"), "monitor", interval_ms=10_000),
                              runs)
    rows.append(("vigil:dummy", direct, through))
    if DUMMY.exists():
        ocf_state = tmp / "ocf.state"
        ocf_state.touch()
        ex.add_resource(Resource(ResourceId("o"), AgentSpec("ocf", "Dummy", "heartbeat"),
                                 params={"state": str(ocf_state)},
                                 operations=(Operation("monitor", 10_000, 20_000),)))
        env = ocf_env(ocf_state)

        async def script() -> object:
            # What a shell or cron job does: fork/exec the agent and wait for it.
            return await asyncio.to_thread(subprocess.run, [str(DUMMY), "monitor"], env=env,
                                           capture_output=True, check=False)

        direct = await median_ms(script, runs)
        through = await median_ms(
            lambda: ex.run(ResourceId("o"), "monitor", interval_ms=10_000), runs)
        rows.append(("ocf:heartbeat:Dummy", direct, through))
    await ex.close()
    return rows


async def throughput(tmp: Path, spec: AgentSpec, resources: int, seconds: float) -> float:
    res = []
    for i in range(resources):
        state = tmp / f"{spec.type}-{i}.state"
        state.touch()
        res.append(Resource(ResourceId(f"r{i}"), spec, params={"state": str(state)},
                            operations=(Operation("monitor", 10_000, 20_000),)))
    ex = Executor(res, state_dir=tmp)
    done = 0
    deadline = time.monotonic() + seconds

    async def loop(rid: ResourceId) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            ev = await ex.run(rid, "monitor", interval_ms=10_000)
            assert ev.ok, ev.reason
            done += 1

    began = time.monotonic()
    await asyncio.gather(*(loop(r.id) for r in res))
    rate = done / (time.monotonic() - began)
    await ex.close()
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--resources", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as d:
        tmp = Path(d)
        print(f"executor overhead, one monitor, median of {args.runs} "
              f"({os.cpu_count()} cores, max_parallel {2 * (os.cpu_count() or 1)})")
        print(f"{'agent':<22}{'direct ms':>11}{'executor ms':>13}{'overhead ms':>13}")
        for name, direct, through in await overhead(tmp, args.runs):
            print(f"{name:<22}{direct:>11.3f}{through:>13.3f}{through - direct:>13.3f}")
        print(f"\nsustained monitors per second, {args.resources} resources each monitored "
              f"back to back for {args.seconds:g} s")
        print(f"{'agent':<22}{'monitors/s':>11}")
        specs = [AgentSpec("vigil", "dummy")]
        if DUMMY.exists():
            specs.append(AgentSpec("ocf", "Dummy", "heartbeat"))
        for spec in specs:
            rate = await throughput(tmp, spec, args.resources, args.seconds)
            print(f"{spec!s:<22}{rate:>11.0f}")


if __name__ == "__main__":
    asyncio.run(main())
