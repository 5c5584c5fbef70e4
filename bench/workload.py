"""What the benchmark runs: the data it seeds, the documents each system is sent, the
bodies wrk rotates through, and the settings (BENCH_ROUNDS, BENCH_SECONDS, ...)."""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from graph.auth import mint_token
from graph.documents.ids import document_id, sha256_hex

ROOT = Path(__file__).resolve().parents[1]


BENCH = ROOT / "bench"


NODE_DIR = BENCH / ".node"


REPORT = ROOT / "docs" / "PERFORMANCE.md"


SECRET = "bench-secret-" + "0123456789abcdef" * 3


USERS, SESSIONS_PER_USER = 200, 50


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))


CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


WORKERS = 1  # the gateway and PostGraphile run the same number of server processes


GATEWAY_QUERIES = {
    "session": "query S($id: ID!) { session(id: $id) { id status title version "
    "currentDraft { version ir validationStatus ambiguities } "
    "revisions(first: 10) { edges { node { number type content } } } } }",
    "sessions": "query L { sessions(first: 20) { totalCount edges { node { id title status updatedAt } } } }",
}


# The session screen lift-sys renders: `session` and the open holes with suggestions
# (every hole of the seeded IR is open: nine, each with its suggestions).
SCREEN_QUERIES = {
    "session": GATEWAY_QUERIES["session"],
    "sessionScreen": GATEWAY_QUERIES["session"].removesuffix(" } }")
    + " openHoles { identifier kind typeHint description path status"
    " suggestions { text resolutionType rationale } } } }",
}


# The dashboard (examples/operations.graphql's Dashboard): `sessions` and each session's
# counts, with the viewer's stats and latest activity.
DASHBOARD_QUERIES = {
    "sessions": GATEWAY_QUERIES["sessions"],
    "dashboard": "query D { viewer { stats { total active finalized abandoned "
    "averageSecondsToFinalize openHoles } activity(first: 10) { "
    "edges { cursor node { kind at sessionId } } } } "
    "sessions(first: 20) { totalCount edges { node { id title status updatedAt "
    "openHoleCount revisionCount draftCount } } } }",
}


PEER_QUERIES = {
    "session": "query S($id: UUID!) { sessionById(id: $id) { id status title version "
    "current: draftsBySessionIdAndUserId(first: 1, orderBy: VERSION_DESC) "
    "{ nodes { version ir validationStatus ambiguities } } "
    "revisionsBySessionIdAndUserId(first: 10, orderBy: NUMBER_ASC) { nodes { number revisionType content } } } }",
    "sessions": "query L { allSessions(first: 20, orderBy: [UPDATED_AT_DESC, ID_ASC]) "
    "{ totalCount nodes { id title status updatedAt } } }",
}


WRITE_QUERIES = {
    "createSession": "mutation C($input: CreateSessionInput!) { createSession(input: $input) { session { id version } } }",
    "resolveHole": "mutation R($input: ResolveHoleInput!) { resolveHole(input: $input) { resolution { id } session { version } } }",
    "addDraft": "mutation A($input: AddDraftInput!) { addDraft(input: $input) { draft { version } session { version } } }",
}


# The same SQL functions through PostGraphile's mutations: resolve_hole and add_draft as it
# names them; create_session under the name a smart comment gives it (PEER_SMART_COMMENTS),
# since the table's own CRUD `createSession` takes that name. JSON arguments go as strings
# (PostGraphile 4's default, without dynamicJson).
PEER_WRITE_QUERIES = {
    "createSession": "mutation C($input: NewSessionInput!) { newSession(input: $input) { session { id version } } }",
    "resolveHole": "mutation R($input: ResolveHoleInput!) { resolveHole(input: $input) { resolution { id } sessionBySessionIdAndUserId { version } } }",
    "addDraft": "mutation A($input: AddDraftInput!) { addDraft(input: $input) { draft { version } sessionBySessionIdAndUserId { version } } }",
}
PEER_SMART_COMMENTS = (
    "comment on function public.create_session(text, text, text, jsonb, jsonb, text)"
    " is E'@name newSession'"
)


def write_input(operation: str, session_id: str, peer: bool) -> dict[str, Any]:
    """A write's input: the same values for both systems, named as each one names them."""
    ir = ir_document()
    if operation == "createSession":
        draft = {"ir": ir}
        return {"prompt": "bench", "initialDraft": json.dumps(draft) if peer else draft}
    if operation == "resolveHole":
        text = "resolutionText" if peer else "text"
        return {"sessionId": session_id, "holeId": "return_type", text: "float"}
    if operation == "addDraft":
        return {"sessionId": session_id, "ir": json.dumps(ir) if peer else ir}
    raise ValueError(f"no input for {operation}")


def ir_document() -> dict[str, Any]:
    """A realistic IR of about 3 KB, shaped like domain.md's example."""

    def hole(name: str, kind: str) -> dict[str, Any]:
        return {
            "identifier": name,
            "type_hint": kind,
            "description": f"Specify {name}",
            "constraints": {},
            "kind": kind,
        }

    return {
        "intent": {
            "summary": "Create a calculate_discount function that takes float price and takes "
            "float rate and returns float. It logs the discount.",
            "rationale": "Pricing needs one audited place to compute discounts.",
            "holes": [],
        },
        "signature": {
            "name": "calculate_discount",
            "parameters": [
                {"name": "price", "type_hint": "float", "description": "list price"},
                {"name": "rate", "type_hint": "float", "description": "0..1"},
            ],
            "returns": None,
            "holes": [hole("return_type", "signature")],
        },
        "effects": [
            {"description": f"Logs the discount at step {i}", "holes": []} for i in range(8)
        ],
        "assertions": [
            {
                "predicate": f"constraint {i} on numeric inputs holds",
                "rationale": "from review",
                "holes": [hole(f"input_constraints_{i}", "assertion")],
            }
            for i in range(8)
        ],
        "metadata": {
            "source_path": None,
            "language": "python",
            "origin": "prompt",
            "evidence": [f"evidence line {i}" for i in range(10)],
        },
    }


SEED = """
set session_replication_role = replica;  -- numbering triggers off: numbers are given
create temporary table bench_users as
  select md5('bench-user-' || i)::uuid as id from generate_series(1, {users}) i;
insert into public.sessions (user_id, title, version, created_at, updated_at)
  select u.id, 'bench session ' || s, 21,
         now() - make_interval(mins => s), now() - make_interval(mins => s)
    from bench_users u, generate_series(1, {sessions}) s;
insert into public.revisions (session_id, user_id, number, content, revision_type, target_hole)
  select s.id, s.user_id, n, 'answer number ' || n || ' to a hole of this session',
         case when n = 1 then 'initial' else 'hole_fill' end,
         case when n = 1 then null else 'hole_' || n end
    from public.sessions s, generate_series(1, 10) n;
insert into public.drafts (session_id, user_id, version, ir, validation_status, ambiguities)
  select s.id, s.user_id, v, $1::jsonb, 'incomplete', array['return_type', 'input_constraints_0']
    from public.sessions s, generate_series(1, 5) v;
insert into public.resolutions (session_id, user_id, number, hole_id, resolution_text, resolution_type)
  select s.id, s.user_id, n, 'hole_' || n, 'price >= 0 and 0 <= rate <= 1', 'add_constraint'
    from public.sessions s, generate_series(1, 5) n;
update public.sessions s set open_hole_count = session_graph.open_hole_count(s.id);
analyze;
"""


def token(user: uuid.UUID) -> str:
    return mint_token(SECRET, user, 3600)


async def seed(dsn: str) -> dict[uuid.UUID, list[str]]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            SEED.format(users=USERS, sessions=SESSIONS_PER_USER).replace(
                "$1::jsonb", "'" + json.dumps(ir_document()).replace("'", "''") + "'::jsonb"
            )
        )
        rows = await conn.fetch("select user_id, id::text as id from public.sessions")
    finally:
        await conn.close()
    by_user: dict[uuid.UUID, list[str]] = {}
    for row in rows:
        by_user.setdefault(row["user_id"], []).append(row["id"])
    return by_user


def manifest_file(path: Path, queries: list[str]) -> Path:
    """The trusted documents the gateway serves by id (GRAPH_TRUSTED_DOCUMENTS)."""
    out = path / "persisted-documents.json"
    out.write_text(json.dumps({document_id(sha256_hex(q)): q for q in queries}))
    return out


def body_file(
    path: Path,
    queries: dict[str, str],
    operation: str,
    sessions: dict[uuid.UUID, list[str]],
    *,
    by_id: bool = False,
    peer: bool = False,
) -> Path:
    """wrk's requests: a token and a JSON body per line; with `by_id` the body names the
    document by `documentId` instead of sending its text; with `peer`, a write's variables
    as PostGraphile's mutations name them."""
    rng = random.Random(7)
    users = list(sessions)
    tokens = {u: token(u) for u in users}
    named = ("-id" if by_id else "") + ("-peer" if peer else "")
    out = path / f"{operation}{named}-{abs(hash(queries[operation])) % 10000}.tsv"
    document: dict[str, str] = (
        {"documentId": document_id(sha256_hex(queries[operation]))}
        if by_id
        else {"query": queries[operation]}
    )
    with out.open("w") as handle:
        for _ in range(4000):
            user = rng.choice(users)
            variables: dict[str, Any] = {}
            if operation in ("session", "sessionScreen"):
                variables = {"id": rng.choice(sessions[user])}
            elif operation in WRITE_QUERIES:
                variables = {"input": write_input(operation, rng.choice(sessions[user]), peer)}
            handle.write(f"{tokens[user]}\t{json.dumps({**document, 'variables': variables})}\n")
    return out
