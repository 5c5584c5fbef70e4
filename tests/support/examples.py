"""The frontend's documents (examples/operations.graphql), one operation at a time, as
codegen hands them to a client: the operation and the fragments it uses."""

from __future__ import annotations

import functools
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

OPERATIONS = Path(__file__).resolve().parents[2] / "examples" / "operations.graphql"


@functools.cache
def _document() -> DocumentNode:
    return parse(OPERATIONS.read_text())


def example_operation(name: str) -> str:
    document = _document()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    used: dict[str, FragmentDefinitionNode] = {}
    pending: list[Node] = [operation]
    while pending:
        for spread in _spreads(pending.pop()):
            if spread not in used:
                used[spread] = fragments[spread]
                pending.append(fragments[spread])
    return "\n".join(print_ast(d) for d in (operation, *used.values()))


def _spreads(node: Node) -> list[str]:
    found: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            found.append(spread.name.value)

    visit(node, Spreads())
    return found
