"""`session-graph documents check`: a manifest checked as the server checks it at startup,
and, for each query, whether each store answers it with one statement."""

from __future__ import annotations

from pathlib import Path

from graph.backends.pg_graphql.compiled import compile_read as upstream_read
from graph.backends.postgres.compiled import compile_payload
from graph.backends.postgres.compiled import compile_read as statement_read
from graph.documents.manifest import DocumentCheck, check_manifest, read_manifest
from graph.limits import Limits, validation_rules
from graph.schema import build_schema


def check_report(manifest: Path, *, introspection: bool = True) -> tuple[list[str], bool]:
    """One line per document, and whether all of them may be served."""
    limits = Limits()
    schema = build_schema(introspection=introspection, limits=limits)._schema
    checks = check_manifest(
        schema,
        read_manifest(manifest),
        rules=validation_rules(limits, introspection=introspection),
        max_tokens=limits.max_tokens,
    )
    lines = [_line(check) for check in checks]
    failed = sum(not check.ok for check in checks)
    lines.append(
        f"{len(checks)} documents, {failed} with problems"
        if failed
        else f"{len(checks)} documents, all valid"
    )
    return lines, failed == 0


def _line(check: DocumentCheck) -> str:
    name = f"{check.operation_type or '?'} {check.operation_name or '(anonymous)'}"
    if check.problems:
        return f"FAIL {check.document.id} {name}: " + "; ".join(check.problems)
    return f"ok   {check.document.id} {name}: {_answered_by(check)}"


def _answered_by(check: DocumentCheck) -> str:
    if check.operation_type == "mutation" and check.plan is not None:
        if compile_payload(check.plan) is not None:
            return "its SQL function and one payload statement on postgres"
        return "a mutation, run by the executor"
    if check.operation_type != "query":
        return f"a {check.operation_type}, run by the executor"
    if check.plan is None:
        return "executed field by field"
    stores = [
        store
        for store, compiled in (
            ("postgres", statement_read(check.plan)),
            ("pg_graphql", upstream_read(check.plan)),
        )
        if compiled is not None
    ]
    if not stores:
        return "executed field by field"
    return "one statement on " + " and ".join(stores)
