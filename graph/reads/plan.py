"""A query document as the tree of fields it selects, for a store to compile.

A document is planned only when the plan is certain to answer exactly as Strawberry's
executor would: a query operation, or a mutation of exactly one `Write` field; no
directives, object types only (fragments are merged into their fields), and only fields
the graph describes as compiled (graph/schema/model.py). Anything else returns None and
is executed normally.

Each planned field carries its description, and a field with arguments its own site:
`Bound.get(field, arguments)` gives that field's value for one request, of the type its
description's `Arguments` reads into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.values import get_argument_values, get_variable_values

from graph.errors import GraphError
from graph.reads.inputs import converter
from graph.schema.model import (
    Arguments,
    ExecutorOnly,
    Kind,
    NotDescribable,
    Read,
    Write,
    kind_of,
    read_of,
)

if TYPE_CHECKING:
    from strawberry.schema.schema import Schema as StrawberrySchema

T = TypeVar("T")
TYPENAME = "__typename"


class NotPlannable(Exception):
    """The document is valid but outside what plans cover."""


class NotAnswerable(Exception):
    """A compiled read that cannot answer this request exactly (say, more rows than one
    upstream page brings); the executor answers it instead."""


_PER_REQUEST = object()  # an argument site whose value depends on the request's variables


@dataclass(frozen=True, slots=True)
class _ArgumentSite:
    index: int
    arguments: Arguments[Any]
    definition: GraphQLField
    node: FieldNode
    value: object = _PER_REQUEST  # bound once at planning when no variable is involved


@dataclass(frozen=True, slots=True)
class PlannedField:
    key: str  # the response key (alias or name)
    name: str  # the schema field
    parent: str  # the object type the field belongs to
    read: Read | None  # how the field is stored; None for __typename
    kind: Kind | None = None  # a leaf's serialisation
    children: tuple[PlannedField, ...] = ()
    site: _ArgumentSite | None = None
    many: bool = False  # a list of values (not a connection)


class Bound:
    """One request's argument values, each for the field that takes it; for a mutation's
    payload, also the row its write returned (`written`)."""

    __slots__ = ("_values", "written")

    def __init__(self, values: Sequence[object], written: Mapping[str, Any] | None = None) -> None:
        self._values = values
        self.written: Mapping[str, Any] = written or {}

    def after(self, written: Mapping[str, Any]) -> Bound:
        """These values, with the row a write returned."""
        return Bound(self._values, written)

    def get(self, field: PlannedField, arguments: Arguments[T]) -> T:
        site = field.site
        if site is None or site.arguments is not arguments:  # a compiler's bug
            raise TypeError(f"{field.parent}.{field.name} takes no {arguments.name}")
        return cast("T", self._values[site.index])  # what `arguments.read` returned

    def command(self, field: PlannedField) -> object:
        """A `Write` field's command for this request (what its resolver would build)."""
        if field.site is None or not isinstance(field.read, Write):  # a compiler's bug
            raise TypeError(f"{field.parent}.{field.name} is not a write")
        return self._values[field.site.index]


@dataclass(frozen=True, slots=True)
class ReadPlan:
    operation_name: str | None
    fields: tuple[PlannedField, ...]
    _variables: tuple[VariableDefinitionNode, ...] = ()
    _argument_sites: tuple[_ArgumentSite, ...] = field(default=())

    @property
    def write(self) -> PlannedField | None:
        """A mutation's one field (its read a `Write`), or None for a query."""
        if len(self.fields) == 1 and isinstance(self.fields[0].read, Write):
            return self.fields[0]
        return None

    def bind(self, schema: GraphQLSchema, variables: dict[str, Any] | None) -> Bound | None:
        """Each field's store-ready argument values for this request's variables; None when
        coercion or a resolver's rule would refuse them (the executor then reports it)."""
        if not self._variables:  # every argument is a literal: bound at planning
            return Bound([site.value for site in self._argument_sites])
        coerced = get_variable_values(schema, self._variables, variables or {})
        if isinstance(coerced, list):
            return None
        try:
            return Bound(
                [
                    site.arguments.read(get_argument_values(site.definition, site.node, coerced))
                    if site.value is _PER_REQUEST
                    else site.value
                    for site in self._argument_sites
                ]
            )
        except (GraphQLError, GraphError):
            return None


def plan_read(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> ReadPlan | None:
    """The plan of a document that has already passed validation, or None."""
    operation = _operation(document, operation_name)
    if operation is None or operation.directives:
        return None
    root_of = _ROOTS.get(operation.operation)
    root = root_of(schema) if root_of is not None else None
    if root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    builder = _Builder(fragments, _strawberry_schema(schema))
    try:
        fields = builder.fields(root, [operation.selection_set])
    except NotPlannable:
        return None
    if operation.operation is OperationType.MUTATION and not (
        len(fields) == 1 and isinstance(fields[0].read, Write)
    ):
        return None  # several writes run one after another, each in its own transaction
    sites = _bind_literals(schema, builder.sites)
    if sites is None:
        return None
    return ReadPlan(
        operation_name=operation.name.value if operation.name else None,
        fields=fields,
        _variables=tuple(operation.variable_definitions or ()),
        _argument_sites=sites,
    )


_ROOTS: dict[OperationType, Callable[[GraphQLSchema], GraphQLObjectType | None]] = {
    OperationType.QUERY: lambda schema: schema.query_type,
    OperationType.MUTATION: lambda schema: schema.mutation_type,
}


def _bind_literals(
    schema: GraphQLSchema, sites: list[_ArgumentSite]
) -> tuple[_ArgumentSite, ...] | None:
    """Sites whose arguments are all literals, bound now; None when one would always be
    refused (such a document is left to the executor, which reports it)."""
    no_variables = get_variable_values(schema, (), {})
    if isinstance(no_variables, list):
        return None
    bound = []
    for site in sites:
        if _uses_variables(site.node.arguments or ()):
            bound.append(site)
            continue
        try:
            value = site.arguments.read(
                get_argument_values(site.definition, site.node, no_variables)
            )
        except (GraphQLError, GraphError):
            return None
        bound.append(replace(site, value=value))
    return tuple(bound)


def _uses_variables(nodes: Iterable[Node]) -> bool:
    for node in nodes:
        if isinstance(node, VariableNode):
            return True
        if isinstance(node, ArgumentNode | ObjectFieldNode) and _uses_variables([node.value]):
            return True
        if isinstance(node, ListValueNode) and _uses_variables(node.values):
            return True
        if isinstance(node, ObjectValueNode) and _uses_variables(node.fields):
            return True
    return False


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _strawberry_schema(schema: GraphQLSchema) -> StrawberrySchema | None:
    """The Strawberry schema `schema` was built from (it converts a mutation's input)."""
    found = (schema.extensions or {}).get("strawberry-definition")
    return found if hasattr(found, "schema_converter") else None


def _command_of(write: Write, definition: GraphQLField, schema: StrawberrySchema) -> Arguments[Any]:
    """A mutation's arguments as its command: converted as Strawberry converts them for
    the resolver (graph/reads/inputs.py), then built by the resolver's own function."""
    arguments = getattr(definition.extensions.get("strawberry-definition"), "arguments", None)
    if arguments is None:
        raise NotPlannable("a mutation without Strawberry's arguments")
    convert = converter(arguments, schema)

    def read(values: dict[str, Any]) -> Any:
        return write.command(**convert(values))

    return Arguments(write.call, read)


class _Builder:
    def __init__(
        self,
        fragments: dict[str, FragmentDefinitionNode],
        strawberry: StrawberrySchema | None = None,
    ) -> None:
        self._fragments = fragments
        self._strawberry = strawberry
        self.sites: list[_ArgumentSite] = []

    def fields(
        self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> tuple[PlannedField, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(parent, selection_set, grouped)
        return tuple(self._field(parent, key, nodes) for key, nodes in grouped.items())

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
    ) -> None:
        """Fields in execution order, merged by response key (validation already proved
        same-key fields mergeable)."""
        for selection in selection_set.selections:
            if selection.directives:
                raise NotPlannable("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise NotPlannable("type condition")
                self._collect(parent, selection.selection_set, grouped)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if (
                    fragment is None
                    or fragment.directives
                    or fragment.type_condition.name.value != parent.name
                    or getattr(selection, "arguments", None)
                ):
                    raise NotPlannable("fragment")
                self._collect(parent, fragment.selection_set, grouped)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> PlannedField:
        name = nodes[0].name.value
        if name == TYPENAME:
            return PlannedField(key=key, name=name, parent=parent.name, read=None)
        if name.startswith("__"):
            raise NotPlannable("introspection")
        definition = parent.fields.get(name)
        if definition is None:
            raise NotPlannable("unknown field")
        read = read_of(definition)
        if read is None or isinstance(read, ExecutorOnly):
            raise NotPlannable("left to the executor")
        site = None
        if definition.args:
            arguments = getattr(read, "arguments", None)
            if isinstance(read, Write) and self._strawberry is not None:
                arguments = _command_of(read, definition, self._strawberry)
            if not isinstance(arguments, Arguments):
                raise NotPlannable("arguments without a reader")
            site = _ArgumentSite(len(self.sites), arguments, definition, nodes[0])
            self.sites.append(site)
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            children = self.fields(named, [n.selection_set for n in nodes if n.selection_set])
            many = isinstance(get_nullable_type(definition.type), GraphQLList)
            return PlannedField(
                key, name, parent.name, read, children=children, site=site, many=many
            )
        if not _is_leaf(named):
            raise NotPlannable("abstract type")
        try:
            kind = kind_of(definition.type)
        except NotDescribable as exc:
            raise NotPlannable(str(exc)) from exc
        return PlannedField(key, name, parent.name, read, kind=kind, site=site)


def _is_leaf(named: object) -> bool:
    return isinstance(named, GraphQLEnumType | GraphQLScalarType)
