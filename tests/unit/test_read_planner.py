"""Planning documents for compiled reads: what is planned, what is left to the executor,
and the planner's cache staying bounded."""

from __future__ import annotations

import pytest

from graph.auth import Claims
from graph.backends.base import ChildPageRequest, SessionPageRequest
from graph.limits import Limits, validation_rules
from graph.reads.plan import Bound, ReadPlan
from graph.reads.planner import MAX_CACHED_DOCUMENT_CHARS, CompiledReader, ReadPlanner
from graph.schema import build_schema
from graph.schema.arguments import REVISION_PAGES, SESSION_ID, SESSIONS_PAGE

SCHEMA = build_schema()._schema


async def _answer(_viewer: Claims, _bound: Bound) -> bytes:
    return b"{}"


def planner(size: int = 8) -> tuple[ReadPlanner, list[ReadPlan]]:
    compiled: list[ReadPlan] = []

    def compile_read(plan: ReadPlan) -> CompiledReader:
        compiled.append(plan)
        return _answer

    limits = Limits()
    return (
        ReadPlanner(
            SCHEMA,
            rules=validation_rules(limits),
            max_tokens=limits.max_tokens,
            compile_read=compile_read,
            size=size,
        ),
        compiled,
    )


@pytest.mark.parametrize(
    "query",
    [
        'mutation { deleteSession(input: {id: "x"}) { deletedId } }',
        "{ __schema { queryType { name } } }",
        "{ viewer @include(if: true) { id } }",
        "query Q($s: Boolean!) { viewer { id @skip(if: $s) } }",
        "{ sessions(first: 500) { totalCount } }",  # a literal the resolver refuses
        '{ sessions(after: "not ours") { totalCount } }',
        "{ nope }",  # invalid
        "{ viewer { id } ",  # does not parse
        "query A { viewer { id } } query B { viewer { id } }",  # which one?
    ],
)
def test_left_to_the_executor(query: str) -> None:
    plans, compiled = planner()
    assert plans.prepare(query, None) is None
    assert compiled == []


def test_fragments_and_aliases_merge_in_execution_order() -> None:
    plans, _ = planner()
    prepared = plans.prepare(
        """query Q($id: ID!) { b: session(id: $id) { ...F id title } a: viewer { id } }
        fragment F on Session {
          title ... on Session { status } revisions(first: 2) { totalCount }
        }""",
        None,
    )
    assert prepared is not None
    [session, viewer] = prepared.plan.fields
    assert (session.key, session.name, viewer.key) == ("b", "session", "a")
    assert [f.key for f in session.children] == ["title", "status", "revisions", "id"]


def test_literal_arguments_are_bound_once_variables_each_time() -> None:
    plans, _ = planner()
    literal = plans.prepare("{ sessions(first: 3, status: ACTIVE) { totalCount } }", None)
    assert literal is not None
    [sessions] = literal.plan.fields
    bound = literal.plan.bind(SCHEMA, None)
    assert bound is not None
    assert bound.get(sessions, SESSIONS_PAGE) == SessionPageRequest(first=3, status="active")
    variable = plans.prepare(
        "query Q($id: ID!) { session(id: $id) { revisions(first: 2) { totalCount } } }", "Q"
    )
    assert variable is not None
    session_id = "9f1c1c9e-5a49-4a0b-9a56-3f0e8f7c1a11"
    bound = variable.plan.bind(SCHEMA, {"id": session_id})
    assert bound is not None
    [session] = variable.plan.fields
    [revisions] = session.children
    assert str(bound.get(session, SESSION_ID)) == session_id
    assert bound.get(revisions, REVISION_PAGES) == ChildPageRequest(first=2)
    with pytest.raises(TypeError, match="takes no"):  # another field's arguments: a bug
        bound.get(session, REVISION_PAGES)
    assert variable.plan.bind(SCHEMA, {"id": "not a uuid"}) is None
    assert variable.plan.bind(SCHEMA, {}) is None


def test_the_cache_is_bounded_and_keeps_the_recently_used() -> None:
    plans, compiled = planner(size=2)
    documents = [f"query Q{i} {{ viewer {{ id }} }}" for i in range(3)]
    for document in documents[:2]:
        assert plans.prepare(document, None) is not None
    plans.prepare(documents[0], None)  # used again: now the most recent
    plans.prepare(documents[2], None)  # evicts documents[1]
    assert len(compiled) == 3
    plans.prepare(documents[0], None)
    assert len(compiled) == 3  # still cached
    plans.prepare(documents[1], None)
    assert len(compiled) == 4  # planned again


def test_long_documents_are_never_cached_and_go_to_the_executor() -> None:
    plans, compiled = planner()
    long = "#" + "x" * MAX_CACHED_DOCUMENT_CHARS + "\n{ viewer { id } }"
    assert plans.prepare(long, None) is None
    assert compiled == []
