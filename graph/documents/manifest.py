"""The manifest of a frontend's documents, `{id: document}` (graphql-codegen's
`persisted-documents.json`), read and checked against the schema before anything serves it.

Every id must be the sha256 of its document's text, so an id names one text forever; every
document must hold one operation that validates against the schema with the request
limits. A query or mutation is also planned, so a check says whether it is compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from graph.documents.ids import document_id, parse_document_id, sha256_hex
from graph.reads.plan import ReadPlan, plan_read


class ManifestError(Exception):
    """The manifest cannot be served; the message names the document and the problem."""


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    digest: str  # sha256 hex of `text`
    text: str

    @property
    def id(self) -> str:
        return document_id(self.digest)


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    document: TrustedDocument
    operation_name: str | None
    operation_type: str | None  # "query", "mutation", "subscription"; None if unparsable
    problems: tuple[str, ...]
    plan: ReadPlan | None  # a query (or a write) the planner compiles, else None

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(path: Path) -> tuple[TrustedDocument, ...]:
    """The manifest's documents; ManifestError if it is not `{sha256 id: text}` throughout."""
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest {path}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"the manifest {path} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ManifestError(f"the manifest {path} must be a JSON object of id -> document")
    documents = []
    for key, text in raw.items():
        digest = parse_document_id(key)
        if digest is None:
            raise ManifestError(f"{key!r}: an id must be sha256:<64 lowercase hex> or the hex")
        if not isinstance(text, str):
            raise ManifestError(f"{key}: the document must be a string")
        if sha256_hex(text) != digest:
            raise ManifestError(
                f"{key}: the id is not the sha256 of its document (hashAlgorithm: 'sha256'?)"
            )
        documents.append(TrustedDocument(digest, text))
    return tuple(documents)


def check_document(
    schema: GraphQLSchema,
    document: TrustedDocument,
    *,
    rules: Sequence[type[ASTValidationRule]],
    max_tokens: int,
) -> DocumentCheck:
    """Parse, validate with the request rules, and plan one manifest document."""
    try:
        parsed = parse(document.text, max_tokens=max_tokens)
    except GraphQLError as exc:
        return DocumentCheck(document, None, None, (exc.message,), None)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        problem = f"a trusted document holds one operation; this one has {len(operations)}"
        return DocumentCheck(document, None, None, (problem,), None)
    [operation] = operations
    name = operation.name.value if operation.name else None
    kind = operation.operation.value
    errors = validate(schema, parsed, [*specified_rules, *rules])
    if errors:
        return DocumentCheck(document, name, kind, tuple(e.message for e in errors), None)
    return DocumentCheck(document, name, kind, (), plan_read(schema, parsed, name))


def check_manifest(
    schema: GraphQLSchema,
    documents: Sequence[TrustedDocument],
    *,
    rules: Sequence[type[ASTValidationRule]],
    max_tokens: int,
) -> list[DocumentCheck]:
    return [
        check_document(schema, document, rules=rules, max_tokens=max_tokens)
        for document in documents
    ]


def first_problem(checks: Sequence[DocumentCheck]) -> str | None:
    """What stops startup: the first failing document, by id, with its first error."""
    for check in checks:
        if check.problems:
            return f"trusted document {check.document.id}: {check.problems[0]}"
    return None
