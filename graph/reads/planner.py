"""Plans each distinct document once: parse, validate, plan, compile, cache.

The cache is bounded (least recently used out) and keyed by the document's text and
operation name. A document that cannot be compiled is cached as such, so it costs one
lookup before going to the executor. Long documents are never cached: they would let a
client fill memory with distinct texts. The trusted documents' plans are pinned: made at
startup and never evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema, parse, specified_rules, validate

from graph.auth import Claims
from graph.reads.plan import Bound, ReadPlan, plan_read

# Runs a compiled read as the viewer with the bound arguments; returns the `data` JSON.
CompiledReader = Callable[[Claims, Bound], Awaitable[bytes]]
Compile = Callable[[ReadPlan], CompiledReader | None]

MAX_CACHED_DOCUMENT_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class PreparedRead:
    plan: ReadPlan
    run: CompiledReader


class ReadPlanner:
    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
        compile_read: Compile,
        size: int = 512,
    ) -> None:
        self._schema = schema
        self._rules = rules
        self._max_tokens = max_tokens
        self._compile_read = compile_read
        self._size = size
        self._cache: OrderedDict[tuple[str, str | None], PreparedRead | None] = OrderedDict()
        self._pinned: dict[tuple[str, str | None], PreparedRead | None] = {}

    @property
    def schema(self) -> GraphQLSchema:
        return self._schema

    def pin(self, query: str, operation_name: str | None) -> PreparedRead | None:
        """Plan a trusted document now and keep its plan for the process's life, under its
        operation's name and under none (a request may omit operationName)."""
        prepared = self._prepare(query, operation_name)
        self._pinned[(query, operation_name)] = self._pinned[(query, None)] = prepared
        return prepared

    def prepare(self, query: str, operation_name: str | None) -> PreparedRead | None:
        key = (query, operation_name)
        if key in self._pinned:
            return self._pinned[key]
        if len(query) > MAX_CACHED_DOCUMENT_CHARS:
            return None
        try:
            prepared = self._cache[key]
        except KeyError:
            prepared = self._prepare(query, operation_name)
            self._cache[key] = prepared
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return prepared

    def _prepare(self, query: str, operation_name: str | None) -> PreparedRead | None:
        plan = plan_query(
            self._schema, query, operation_name, rules=self._rules, max_tokens=self._max_tokens
        )
        run = self._compile_read(plan) if plan is not None else None
        return PreparedRead(plan, run) if plan is not None and run is not None else None


def plan_query(
    schema: GraphQLSchema,
    query: str,
    operation_name: str | None,
    *,
    rules: Sequence[type[ASTValidationRule]],
    max_tokens: int,
) -> ReadPlan | None:
    """Parse, validate (with `rules` on top of the specified ones) and plan a document."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    if validate(schema, document, [*specified_rules, *rules]):
        return None
    return plan_read(schema, document, operation_name)
