"""The documents the adapter sends: operations/*.graphql, with the node fragments they
spread (`...SessionFields`) made from the graph's description, so a column a type
describes is asked for without an edit here. Composed as graphql-core documents, once."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    NamedTypeNode,
    NameNode,
    SelectionSetNode,
    Visitor,
    parse,
    visit,
)

from graph.schema.model import camel, columns

OPERATIONS_DIR = Path(__file__).parent / "operations"

# The graph's node types as pg_graphql names them (migrations/0006), and the key columns
# this adapter reads beyond the ones the graph describes (to group children, to follow a
# resolution to its revision, to make a resolution's cursor).
NODE_TYPES: dict[str, tuple[str, ...]] = {
    "Session": (),
    "Revision": ("session_id",),
    "Draft": ("session_id",),
    "Resolution": ("session_id", "revision_id", "number"),
    "Activity": ("id", "row_id", "revision_id", "draft_id", "resolution_id"),
}
# Where pg_graphql's name differs from the graph's (migrations/0013's views).
UPSTREAM_TYPES = {"Activity": "SessionActivity"}


def node_columns(schema: GraphQLSchema, type_name: str) -> list[str]:
    """The columns the adapter selects for a node type, described ones first."""
    described = [c.column for c in columns(schema, type_name)]
    return described + [key for key in NODE_TYPES[type_name] if key not in described]


def node_fragments(schema: GraphQLSchema) -> dict[str, FragmentDefinitionNode]:
    return {
        f"{type_name}Fields": FragmentDefinitionNode(
            name=NameNode(value=f"{type_name}Fields"),
            type_condition=NamedTypeNode(
                name=NameNode(value=UPSTREAM_TYPES.get(type_name, type_name))
            ),
            selection_set=SelectionSetNode(
                selections=tuple(
                    FieldNode(name=NameNode(value=camel(column)))
                    for column in node_columns(schema, type_name)
                )
            ),
        )
        for type_name in NODE_TYPES
    }


def load_documents(
    schema: GraphQLSchema, directory: Path = OPERATIONS_DIR
) -> dict[str, DocumentNode]:
    """Each operation file, parsed, with the fragments it spreads appended."""
    fragments = node_fragments(schema)
    documents = {}
    for path in sorted(directory.glob("*.graphql")):
        document = parse(path.read_text())
        used = sorted(_spreads(document))
        documents[path.stem] = DocumentNode(
            definitions=(*document.definitions, *(fragments[name] for name in used))
        )
    return documents


def _spreads(document: DocumentNode) -> set[str]:
    found: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
            found.add(node.name.value)

    visit(document, Spreads())
    return found
