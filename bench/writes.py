"""Write throughput of this checkout's gateway alone: `python -m bench.writes`.

createSession and resolveHole through `session-graph serve` on an embedded Postgres with
`make bench`'s data and bodies, wrk at 16 connections, 3 rounds of 8 s each (medians).
Quicker than `make bench` when a change touches the write path; to compare two
checkouts, run it in each, alternately, a few times.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from bench.measure import start_gateway, wait_for, wrk
from bench.workload import WRITE_QUERIES, body_file, seed, token
from graph.embedded import EmbeddedPostgres
from graph.migrate import migrate

PORT = 18090
ROUNDS = 3


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        tmp_path = Path(tmp)
        embedded = EmbeddedPostgres(tmp_path / "pg")
        embedded.start()
        gateway = None
        try:
            asyncio.run(migrate(embedded.admin_dsn))
            sessions = asyncio.run(seed(embedded.admin_dsn))
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("GRAPH_", "SUPABASE_", "DATABASE_URL"))
            }
            gateway = start_gateway(PORT, embedded.app_dsn, env)
            url = f"http://127.0.0.1:{PORT}/graphql"
            wait_for(url, gateway, {"Authorization": f"Bearer {token(next(iter(sessions)))}"})
            for op in ("createSession", "resolveHole"):
                bodies = body_file(tmp_path, WRITE_QUERIES, op, sessions)
                wrk(url, bodies, 3, [])  # warm
                figures = [wrk(url, bodies, 8, [])[0] for _ in range(ROUNDS)]
                rates = [f[0] for f in figures]
                print(
                    f"{op:14} "
                    + " ".join(f"{r:6.0f}" for r in rates)
                    + f"  median {statistics.median(rates):6.0f} req/s"
                    + f"  errors {sum(f[4] for f in figures):.0f}",
                    flush=True,
                )
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(timeout=20)
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
