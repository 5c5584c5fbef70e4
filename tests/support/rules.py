"""The service's invariants (docs/ARCHITECTURE.md, "Rules and where they live"), checked
over some users' rows from an administrator's connection, in Python: an implementation
of its own, so a test that breaks the database's rules sees it without trusting them.

`Snapshot.take` reads the rows; `violations` lists what breaks a rule (empty: all hold).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The lift-sys IR as lift-sys's ir/models.py has it: the oracle for the SQL's ir_problem.


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Hole(_Open):
    identifier: str = Field(min_length=1, max_length=200)
    type_hint: str
    description: str = ""
    constraints: dict[str, str] = Field(default_factory=dict)
    kind: Literal["intent", "signature", "effect", "assertion", "implementation"]


class _Clause(_Open):
    holes: list[Hole] = Field(default_factory=list)


class Intent(_Clause):
    summary: str
    rationale: str | None = None


class Parameter(_Open):
    name: str
    type_hint: str
    description: str | None = None


class Signature(_Clause):
    name: str
    parameters: list[Parameter] = Field(default_factory=list)
    returns: str | None = None


class Effect(_Clause):
    description: str


class Assertion(_Clause):
    predicate: str
    rationale: str | None = None


class IRMetadata(_Open):
    source_path: str | None = None
    language: str
    origin: str
    evidence: list[Any] = Field(default_factory=list)


class IR(_Open):
    intent: Intent
    signature: Signature
    effects: list[Effect] = Field(default_factory=list)
    assertions: list[Assertion] = Field(default_factory=list)
    relationships: list[_Clause] = Field(default_factory=list)
    constraints: list[_Clause] = Field(default_factory=list)
    metadata: IRMetadata


def ir_is_valid(ir: object) -> bool:
    if not isinstance(ir, dict):
        return False
    try:
        parsed = IR.model_validate(ir)
    except ValidationError:
        return False
    return all(not is_blank(hole.identifier) for hole in _holes(parsed))


def _holes(ir: IR) -> list[Hole]:
    clauses: list[_Clause] = [
        ir.intent,
        ir.signature,
        *ir.effects,
        *ir.assertions,
        *ir.relationships,
        *ir.constraints,
    ]
    return [hole for clause in clauses for hole in clause.holes]


def hole_identifiers(ir: dict[str, Any]) -> list[str]:
    """The IR's holes in IR order, each once."""
    found: dict[str, None] = {}
    for hole in _holes(IR.model_validate(ir)):
        found.setdefault(hole.identifier, None)
    return list(found)


RULE_MESSAGE = re.compile(r"^(BAD_USER_INPUT|NOT_FOUND|CONFLICT|FAILED_PRECONDITION): \S")
# What Postgres's own messages carry: a quoted constraint, relation or policy name.
RAW_MARKERS = ("violates", 'constraint "', 'relation "', "row-level security", "_fkey", "_check")


def assert_rule_message(message: str, code: str, context: str = "") -> None:
    """A refusal worded by one of the database's rules: "CODE: text", naming nothing."""
    assert RULE_MESSAGE.match(message), (context, message)
    assert message.startswith(f"{code}: "), (context, message)
    assert not any(marker in message for marker in RAW_MARKERS), (context, message)


def is_blank(text: str) -> bool:
    return not text.strip()


def _text_ok(value: str | None, limit: int, *, required: bool) -> bool:
    if value is None:
        return not required
    return not is_blank(value) and len(value) <= limit


@dataclass
class Snapshot:
    sessions: dict[uuid.UUID, dict[str, Any]]
    revisions: dict[uuid.UUID, dict[str, Any]]
    drafts: dict[uuid.UUID, dict[str, Any]]
    resolutions: dict[uuid.UUID, dict[str, Any]]

    @classmethod
    async def take(cls, admin: asyncpg.Connection, users: list[uuid.UUID]) -> Snapshot:
        async def rows(table: str) -> dict[uuid.UUID, dict[str, Any]]:
            found = await admin.fetch(
                f"select * from public.{table} where user_id = any($1::uuid[])",
                users,
            )
            return {row["id"]: _plain(dict(row)) for row in found}

        return cls(
            await rows("sessions"),
            await rows("revisions"),
            await rows("drafts"),
            await rows("resolutions"),
        )

    def children(self, session_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [row for row in table.values() if row["session_id"] == session_id]
            for name, table in (
                ("revisions", self.revisions),
                ("drafts", self.drafts),
                ("resolutions", self.resolutions),
            )
        }

    def current_draft(self, session_id: uuid.UUID) -> dict[str, Any] | None:
        drafts = self.children(session_id)["drafts"]
        return max(drafts, key=lambda d: d["version"]) if drafts else None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: json.loads(value) if key in ("ir", "metadata", "smt_results") else value
        for key, value in row.items()
    }


def violations(state: Snapshot) -> list[str]:
    """Every rule a row of `state` breaks, as "<rule>: <row id>"."""
    return [
        *_session_violations(state),
        *_revision_violations(state),
        *_draft_violations(state),
        *_resolution_violations(state),
    ]


def _session_violations(state: Snapshot) -> Iterator[str]:
    for sid, session in state.sessions.items():
        if session["status"] not in ("active", "finalized", "abandoned"):
            yield f"status is one of three: {sid}"
        if session["source"] not in ("prompt", "reverse_mode"):
            yield f"source is one of two: {sid}"
        if (session["status"] == "finalized") != (session["finalized_at"] is not None):
            yield f"finalizedAt iff finalized: {sid}"
        if session["version"] < 1:
            yield f"version is positive: {sid}"
        if not _text_ok(session["title"], 500, required=False):
            yield f"title is 1-500 characters, not blank: {sid}"
        if not isinstance(session["metadata"], dict):
            yield f"metadata is an object: {sid}"
        children = state.children(sid)
        for name, key in (
            ("revisions", "number"),
            ("drafts", "version"),
            ("resolutions", "number"),
        ):
            numbers = sorted(row[key] for row in children[name])
            if numbers != list(range(1, len(numbers) + 1)):
                yield f"{name} are numbered 1, 2, 3... without gaps: {sid}"
            if any(row["user_id"] != session["user_id"] for row in children[name]):
                yield f"{name} belong to their session's owner: {sid}"
        current = state.current_draft(sid)
        if session["status"] == "finalized" and (
            current is None
            or current["ambiguities"]
            or current["validation_status"] == "contradictory"
        ):
            yield f"a finalized session's draft has no open holes, is not contradictory: {sid}"


def _revision_violations(state: Snapshot) -> Iterator[str]:
    for rid, revision in state.revisions.items():
        if revision["session_id"] not in state.sessions:
            yield f"a revision's session exists: {rid}"
        if not _text_ok(revision["content"], 100_000, required=True):
            yield f"content is 1-100000 characters, not blank: {rid}"
        if revision["revision_type"] not in REVISION_TYPES:
            yield f"revision type is one of four: {rid}"
        if not _text_ok(revision["target_hole"], 200, required=False):
            yield f"targetHole is 1-200 characters, not blank: {rid}"
        if revision["revision_type"] == "hole_fill" and revision["target_hole"] is None:
            yield f"a HOLE_FILL revision names its hole: {rid}"


def _draft_violations(state: Snapshot) -> Iterator[str]:
    for did, draft in state.drafts.items():
        if not ir_is_valid(draft["ir"]):
            yield f"ir is a lift-sys IR: {did}"
            continue
        holes = hole_identifiers(draft["ir"])
        ambiguities = list(draft["ambiguities"])
        if not set(ambiguities) <= set(holes) or len(set(ambiguities)) != len(ambiguities):
            yield f"ambiguities are holes of the IR, each once: {did}"
        if draft["validation_status"] not in ("pending", "valid", "contradictory", "incomplete"):
            yield f"validation status is one of four: {did}"
        if not isinstance(draft["smt_results"], list):
            yield f"smtResults is a list: {did}"


def _resolution_violations(state: Snapshot) -> Iterator[str]:
    for zid, resolution in state.resolutions.items():
        revision_id = resolution["revision_id"]
        revision = state.revisions.get(revision_id) if revision_id else None
        if revision_id is not None and (
            revision is None
            or revision["session_id"] != resolution["session_id"]
            or revision["user_id"] != resolution["user_id"]
        ):
            yield f"a resolution's revision is its own session's: {zid}"
        if not _text_ok(resolution["hole_id"], 200, required=True):
            yield f"holeId is 1-200 characters, not blank: {zid}"
        if not _text_ok(resolution["resolution_text"], 100_000, required=True):
            yield f"text is 1-100000 characters, not blank: {zid}"


REVISION_TYPES = ("initial", "hole_fill", "constraint_add", "manual_edit")
NUMBERED = (("revisions", "number"), ("drafts", "version"), ("resolutions", "number"))
