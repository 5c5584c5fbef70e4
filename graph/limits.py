"""Limits on what one request may ask for, refused before any work with BAD_USER_INPUT.

The validation rules are built once per schema: Strawberry's limiter extensions build a
new rule class per request, which defeats the validation cache (Strawberry #4635), so
this module builds the classes once and the schema adds the same classes every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule, ValidationRule
from graphql.language import ast
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from graph.request_facts import facts_of


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_root_fields: int = 10
    max_body_bytes: int = 1024 * 1024
    request_timeout_s: float = 15.0


def validation_rules(
    limits: Limits, *, introspection: bool = True
) -> list[type[ASTValidationRule]]:
    """The rules every document is validated with on top of the specified ones."""
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(limits.max_depth, None, None),
        max_aliases_rule(limits.max_aliases),
        _root_fields_rule(limits.max_root_fields),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def _root_fields_rule(maximum: int) -> type[ValidationRule]:
    class MaxRootFields(ValidationRule):
        def enter_operation_definition(self, node: ast.OperationDefinitionNode, *_: Any) -> None:
            count = _count_fields(node.selection_set, self.context.get_fragment, set())
            if count > maximum:
                self.report_error(
                    GraphQLError(
                        f"'{node.name.value if node.name else 'anonymous'}' selects {count} root "
                        f"fields; at most {maximum} are allowed",
                        node,
                    )
                )

    return MaxRootFields


def _count_fields(selection_set: ast.SelectionSetNode, fragment: Any, seen: set[str]) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, ast.FieldNode):
            count += 1
        elif isinstance(selection, ast.InlineFragmentNode):
            count += _count_fields(selection.selection_set, fragment, seen)
        elif isinstance(selection, ast.FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            definition = fragment(selection.name.value)
            if definition is not None:
                count += _count_fields(definition.selection_set, fragment, seen)
    return count


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, before the whole body is read."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            if too_large:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        extensions: dict[str, Any] = {
            "code": "BAD_USER_INPUT",
            "requestId": facts_of(scope).request_id,
        }
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"the request body is larger than {self.max_body_bytes} bytes",
                        "extensions": extensions,
                    }
                ]
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass
