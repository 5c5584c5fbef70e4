"""The pg_graphql stand-in against cases adapted from pg_graphql's own test suite
(test/expected/*.out): names, wire formats, pagination, filters, mutations with atMost,
row-level security and the exact error shapes. If the stand-in drifts from pg_graphql,
the gateway's pg_graphql path is tested against a fiction; these tests keep it honest."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.support import TEST_JWT_SECRET, User, discount_ir, new_user
from tests.support.stores import TEST_ANON_KEY, Standin


class Upstream:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: Any = None, *, user: User | None = None, **extra: Any
    ) -> httpx.Response:
        headers = {"apikey": TEST_ANON_KEY}
        if user is not None:
            headers["Authorization"] = f"Bearer {user.token}"
        headers.update(extra.pop("headers", {}))
        body: dict[str, Any] = {"query": query, "variables": {} if variables is None else variables}
        body.update(extra)
        return await self.http.post("/graphql/v1", json=body, headers=headers)

    async def __call__(
        self, query: str, variables: Any = None, *, user: User | None = None, **extra: Any
    ) -> dict[str, Any]:
        response = await self.post(query, variables, user=user, **extra)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def upstream(standin: Standin) -> Any:
    async with httpx.AsyncClient(base_url=standin.url) as http:
        yield Upstream(http)


async def _sessions(upstream: Upstream, user: User, titles: list[str]) -> list[str]:
    body = await upstream(
        "mutation($objects: [SessionInsertInput!]!) { insertIntoSessionCollection(objects: $objects) "
        "{ affectedCount records { id title } } }",
        {"objects": [{"title": t} for t in titles]},
        user=user,
    )
    assert body["data"]["insertIntoSessionCollection"]["affectedCount"] == len(titles)
    return [r["id"] for r in body["data"]["insertIntoSessionCollection"]["records"]]


# Names and wire formats (inflection_*.out, json_is_stringified.out, resolve_one.out)


async def test_inflected_names_and_json_as_strings(upstream: Upstream) -> None:
    user = new_user()
    [sid] = await _sessions(upstream, user, ["first"])
    body = await upstream(
        'mutation($s: UUID!, $m: JSON) { addRevision(sessionId: $s, content: "c", metadata: $m) '
        "{ __typename number revisionType metadata session { title } } }",
        {"s": sid, "m": json.dumps({"a": [1, 2]})},
        user=user,
    )
    revision = body["data"]["addRevision"]
    assert revision == {
        "__typename": "Revision",
        "number": 1,
        "revisionType": "manual_edit",
        "metadata": '{"a": [1, 2]}',
        "session": {"title": "first"},
    }
    refused = await upstream(
        'mutation($s: UUID!) { addRevision(sessionId: $s, content: "c", metadata: {a: 1}) { id } }',
        {"s": sid},
        user=user,
    )
    assert refused == {"data": None, "errors": [{"message": "Invalid input for JSON type"}]}


async def test_node_id_and_by_pk(upstream: Upstream) -> None:
    user = new_user()
    [sid] = await _sessions(upstream, user, ["t"])
    body = await upstream(f'{{ sessionByPk(id: "{sid}") {{ nodeId id title }} }}', user=user)
    node = body["data"]["sessionByPk"]
    assert json.loads(base64.b64decode(node["nodeId"])) == ["public", "sessions", sid]
    missing = await upstream(f'{{ sessionByPk(id: "{uuid.uuid4()}") {{ id }} }}', user=user)
    assert missing == {"data": {"sessionByPk": None}}
    unknown = await upstream(f'{{ sessionByPk(id: "{sid}") {{ id dne }} }}', user=user)
    assert unknown == {"data": None, "errors": [{"message": 'Unknown field "dne" on type Session'}]}


# Error shapes (resolve_error_*.out, test_error_*.out, operation_name.out)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "{ account { id } }",
            {"data": None, "errors": [{"message": 'Unknown field "account" on type Query'}]},
        ),
        (
            "{ sessionCollection { totalCount edges { dneField } } }",
            {"data": None, "errors": [{"message": "unknown field in edge"}]},
        ),
        (
            "{ sessionCollection { dneField } }",
            {"data": None, "errors": [{"message": "unknown field in connection"}]},
        ),
        (
            "{ sessionCollection { edges { node { dneField } } } }",
            {"data": None, "errors": [{"message": "Unknown field 'dneField' on type 'Session'"}]},
        ),
        (
            "{ revisionCollection { edges { node { session { dneField } } } } }",
            {"data": None, "errors": [{"message": "Unknown field 'dneField' on type 'Session'"}]},
        ),
        (
            "{ sessionCollection { pageInfo { dne } } }",
            {"data": None, "errors": [{"message": "unknown field in pageInfo"}]},
        ),
        (
            "{ __schema { queryType { name } } }",
            {"data": None, "errors": [{"message": 'Unknown field "__schema" on type Query'}]},
        ),
        (
            "mutation { insertDNE(object: {}) { id } }",
            {"data": None, "errors": [{"message": 'Unknown field "insertDNE" on type Mutation'}]},
        ),
        (
            "subscription { sessionCollection { totalCount } }",
            {"errors": [{"message": "Subscriptions are not supported"}]},
        ),
        (
            "query A { __typename } { __typename }",
            {"errors": [{"message": "Anonymous operations must be the only defined operation"}]},
        ),
        (
            "query A { __typename } query A { __typename }",
            {"errors": [{"message": "Operation names must be unique"}]},
        ),
        (
            "query A { ...B } fragment B on Query { ...C } fragment C on Query { ...B }",
            {"errors": [{"message": "Found a cycle between fragments"}]},
        ),
        (
            "{ sessionCollection(dne: 1) { totalCount } }",
            {"data": None, "errors": [{"message": 'Input contains extra keys ["dne"]'}]},
        ),
    ],
)
async def test_error_shapes(upstream: Upstream, query: str, expected: dict[str, Any]) -> None:
    assert await upstream(query, user=new_user()) == expected


async def test_partial_query_results_keep_the_fields_that_worked(upstream: Upstream) -> None:
    body = await upstream("{ __typename sessionCollection { dne } }", user=new_user())
    assert body == {
        "data": {"__typename": "Query"},
        "errors": [{"message": "unknown field in connection"}],
    }


async def test_operation_name_and_variables(upstream: Upstream) -> None:
    user = new_user()
    two = "query A { a: __typename } query B { b: __typename }"
    assert await upstream(two, user=user, operationName="B") == {"data": {"b": "Query"}}
    assert await upstream(two, user=user, operationName="C") == {
        "errors": [{"message": "Operation not found"}]
    }
    assert await upstream("{ __typename }", [1], user=user) == {
        "errors": [{"message": "variables must be an object"}]
    }


async def test_parse_errors_have_no_data_key(upstream: Upstream) -> None:
    body = await upstream("{ sessionCollection { ", user=new_user())
    assert list(body) == ["errors"]
    assert body["errors"][0]["message"].startswith("query parse error")


# Pagination (resolve_connection_pagination_args.out, page_info.out, max_page_size.out)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 1, last: 1", 'only one of "first" and "last" may be provided'),
        ('before: "WzFd", after: "WzFd"', 'only one of "before" and "after" may be provided'),
        ('first: 1, before: "WzFd"', '"first" may only be used with "after"'),
        ('last: 1, after: "WzFd"', '"last" may only be used with "before"'),
        ("last: 1, offset: 1", '"offset" may only be used with "first" and "after"'),
        ("first: -1", "`first` must be an unsigned integer"),
        ('first: "x"', "Invalid input for Int type"),
        ('after: "!!!"', "Failed to decode cursor, error 1"),
        ('after: "WzEsIDJd"', "orderBy clause incompatible with pagination cursor"),
    ],
)
async def test_pagination_argument_errors(upstream: Upstream, arguments: str, message: str) -> None:
    body = await upstream(f"{{ sessionCollection({arguments}) {{ totalCount }} }}", user=new_user())
    assert body == {"data": None, "errors": [{"message": message}]}


async def test_empty_collection_page_info(upstream: Upstream) -> None:
    body = await upstream(
        "{ sessionCollection { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }",
        user=new_user(),
    )
    assert body == {
        "data": {
            "sessionCollection": {
                "totalCount": 0,
                "pageInfo": {
                    "hasNextPage": False,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
                "edges": [],
            }
        }
    }


async def test_forward_pages_with_cursors_and_total_count(upstream: Upstream) -> None:
    user = new_user()
    ids = sorted(await _sessions(upstream, user, [f"s{i}" for i in range(5)]))
    seen: list[str] = []
    after = None
    previous_flags = []
    while True:
        body = await upstream(
            "query($after: Cursor) { sessionCollection(first: 2, after: $after) { totalCount "
            "pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } }",
            {"after": after},
            user=user,
        )
        page = body["data"]["sessionCollection"]
        assert page["totalCount"] == 5
        seen += [e["node"]["id"] for e in page["edges"]]
        previous_flags.append(page["pageInfo"]["hasPreviousPage"])
        # Default order is the primary key; the cursor is base64 of the order values.
        assert json.loads(base64.b64decode(page["edges"][-1]["cursor"])) == [
            page["edges"][-1]["node"]["id"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    assert previous_flags == [False, True, True]


async def test_pages_are_clamped_to_max_rows(upstream: Upstream) -> None:
    user = new_user()
    await _sessions(upstream, user, [f"s{i}" for i in range(105)])
    body = await upstream(
        "{ sessionCollection(first: 150) { totalCount edges { cursor } pageInfo { hasNextPage } } }",
        user=user,
    )
    page = body["data"]["sessionCollection"]
    assert (page["totalCount"], len(page["edges"]), page["pageInfo"]["hasNextPage"]) == (
        105,
        100,
        True,
    )
    body = await upstream("{ sessionCollection { edges { cursor } } }", user=user)
    assert len(body["data"]["sessionCollection"]["edges"]) == 100


async def test_order_by_with_the_key_appended(upstream: Upstream) -> None:
    user = new_user()
    await _sessions(upstream, user, ["b", "a", "c", "a"])
    body = await upstream(
        "{ sessionCollection(orderBy: [{title: DescNullsLast}]) { edges { cursor node { id title } } } }",
        user=user,
    )
    edges = body["data"]["sessionCollection"]["edges"]
    assert [e["node"]["title"] for e in edges] == ["c", "b", "a", "a"]
    a1, a2 = edges[2]["node"]["id"], edges[3]["node"]["id"]
    assert a1 < a2
    assert json.loads(base64.b64decode(edges[0]["cursor"])) == ["c", edges[0]["node"]["id"]]
    bad = await upstream(
        "{ sessionCollection(orderBy: [{title: Sideways}]) { totalCount } }", user=user
    )
    assert bad == {"data": None, "errors": [{"message": "Invalid input for OrderByDirection type"}]}
    json_column = await upstream(
        "{ sessionCollection(orderBy: [{metadata: AscNullsLast}]) { totalCount } }", user=user
    )
    assert json_column == {
        "data": None,
        "errors": [{"message": 'Input for type SessionOrderBy contains extra keys ["metadata"]'}],
    }


# Filters (resolve_connection_filter.out, compound_filters.out, string_filters.out)


async def test_filters(upstream: Upstream) -> None:
    user = new_user()
    ids = await _sessions(upstream, user, ["alpha", "beta", "gamma"])

    async def titles(filter_text: str, variables: dict[str, Any] | None = None) -> Any:
        body = await upstream(
            f"query($v: String, $ids: [UUID!]) {{ sessionCollection(filter: {filter_text}, orderBy: [{{title: AscNullsLast}}]) "
            "{ edges { node { title } } } }",
            variables or {},
            user=user,
        )
        if "errors" in body:
            return body
        return [e["node"]["title"] for e in body["data"]["sessionCollection"]["edges"]]

    assert await titles('{title: {eq: "beta"}}') == ["beta"]
    assert await titles('{title: {neq: "beta"}}') == ["alpha", "gamma"]
    assert await titles('{title: {in: ["alpha", "gamma"]}}') == ["alpha", "gamma"]
    assert await titles("{title: {in: []}}") == []
    assert await titles("{title: {lt: null}}") == []
    assert await titles("{title: {eq: $v}}") == [
        "alpha",
        "beta",
        "gamma",
    ]  # absent variable: skipped
    assert await titles("{title: {eq: $v}}", {"v": "gamma"}) == ["gamma"]
    assert await titles("{id: {in: $ids}}", {"ids": ids[:2]}) == sorted(["alpha", "beta"])
    assert await titles('{title: {startsWith: "g"}}') == ["gamma"]
    assert await titles('{title: {ilike: "%ET%"}}') == ["beta"]
    assert await titles('{or: [{title: {eq: "alpha"}}, {title: {eq: "beta"}}]}') == [
        "alpha",
        "beta",
    ]
    assert await titles('{and: [{title: {neq: "alpha"}}, {title: {neq: "beta"}}]}') == ["gamma"]
    assert await titles('{not: {title: {eq: "alpha"}}}') == ["beta", "gamma"]
    assert await titles("{title: {is: NOT_NULL}}") == ["alpha", "beta", "gamma"]
    assert await titles("{title: {is: null}}") == {
        "data": None,
        "errors": [{"message": "Error transpiling Is filter value type"}],
    }
    assert await titles("{dneId: {eq: 1}}") == {
        "data": None,
        "errors": [{"message": 'Input for type SessionFilter contains extra keys ["dneId"]'}],
    }
    assert await titles('{id: {lt: "x"}}') == {
        "data": None,
        "errors": [{"message": 'Input for type UUIDFilter contains extra keys ["lt"]'}],
    }
    assert await titles("{metadata: {eq: 1}}") == {
        "data": None,
        "errors": [{"message": 'Input for type SessionFilter contains extra keys ["metadata"]'}],
    }
    bad_uuid = await titles('{id: {eq: "not-a-uuid"}}')
    assert bad_uuid["data"] is None
    assert bad_uuid["errors"][0]["message"].startswith("invalid input syntax for type uuid")


# Mutations (mutation_insert/update/delete.out, multiple_mutations.out)


async def test_insert_errors(upstream: Upstream) -> None:
    user = new_user()
    cases = [
        (
            "mutation { insertIntoSessionCollection(objects: []) { affectedCount } }",
            "At least one record must be provided to objects",
        ),
        (
            "mutation { insertIntoSessionCollection { affectedCount } }",
            "Invalid input for NonNull type",
        ),
        (
            'mutation { insertIntoSessionCollection(objects: [{userId: "x"}]) { affectedCount } }',
            'Input for type SessionInsertInput contains extra keys ["userId"]',
        ),
        (
            "mutation { insertIntoSessionCollection(objects: [1]) { affectedCount } }",
            "Invalid input for SessionInsertInput type",
        ),
        (
            'mutation { insertIntoSessionCollection(objects: [{title: "x"}]) { dne } }',
            "unknown field in insert",
        ),
        (
            'mutation { insertIntoSessionCollection(objects: [{source: "nope"}]) { affectedCount } }',
            None,
        ),
    ]
    for query, message in cases:
        body = await upstream(query, user=user)
        assert body["data"] is None, query
        if message is None:  # the database's own rule, worded for a client (0008)
            assert body["errors"][0]["message"] == (
                "BAD_USER_INPUT: source must be one of prompt, reverse_mode"
            )
        else:
            assert body["errors"] == [{"message": message}], query
    count = await upstream("{ sessionCollection { totalCount } }", user=user)
    assert count == {"data": {"sessionCollection": {"totalCount": 0}}}


async def test_update_and_delete_respect_at_most(upstream: Upstream) -> None:
    user = new_user()
    await _sessions(upstream, user, ["x", "x", "y"])
    too_many = await upstream(
        'mutation { updateSessionCollection(set: {title: "z"}, filter: {title: {eq: "x"}}) { affectedCount } }',
        user=user,
    )
    assert too_many == {"data": None, "errors": [{"message": "update impacts too many records"}]}
    unchanged = await upstream(
        '{ sessionCollection(filter: {title: {eq: "z"}}) { totalCount } }', user=user
    )
    assert unchanged["data"]["sessionCollection"]["totalCount"] == 0
    allowed = await upstream(
        'mutation { updateSessionCollection(set: {title: "z"}, filter: {title: {eq: "x"}}, atMost: 2) '
        "{ affectedCount records { title } } }",
        user=user,
    )
    assert allowed == {
        "data": {
            "updateSessionCollection": {
                "affectedCount": 2,
                "records": [{"title": "z"}, {"title": "z"}],
            }
        }
    }
    empty_set = await upstream(
        "mutation { updateSessionCollection(set: {}) { affectedCount } }", user=user
    )
    assert empty_set == {
        "data": None,
        "errors": [{"message": "At least one mapping must be provided to set argument"}],
    }
    delete_all = await upstream(
        "mutation { deleteFromSessionCollection { affectedCount } }", user=user
    )
    assert delete_all == {"data": None, "errors": [{"message": "delete impacts too many records"}]}
    deleted = await upstream(
        'mutation { deleteFromSessionCollection(filter: {title: {eq: "y"}}) { affectedCount records { title } } }',
        user=user,
    )
    assert deleted == {
        "data": {"deleteFromSessionCollection": {"affectedCount": 1, "records": [{"title": "y"}]}}
    }


async def test_a_failing_mutation_field_undoes_the_others(upstream: Upstream) -> None:
    user = new_user()
    body = await upstream(
        'mutation { a: insertIntoSessionCollection(objects: [{title: "kept?"}]) { affectedCount } '
        'b: insertIntoSessionCollection(objects: [{source: "invalid"}]) { affectedCount } }',
        user=user,
    )
    assert body["data"] is None
    count = await upstream("{ sessionCollection { totalCount } }", user=user)
    assert count["data"]["sessionCollection"]["totalCount"] == 0


async def test_functions_are_mutation_fields(upstream: Upstream) -> None:
    user = new_user()
    body = await upstream(
        'mutation($d: JSON) { createSession(prompt: "p", initialDraft: $d) { version status '
        "revisions { totalCount } drafts { edges { node { version ambiguities } } } } }",
        {"d": json.dumps({"ir": discount_ir(), "ambiguities": ["return_type"]})},
        user=user,
    )
    assert body == {
        "data": {
            "createSession": {
                "version": 1,
                "status": "active",
                "revisions": {"totalCount": 1},
                "drafts": {"edges": [{"node": {"version": 1, "ambiguities": ["return_type"]}}]},
            }
        }
    }
    missing_argument = await upstream('mutation { addRevision(content: "c") { id } }', user=user)
    assert missing_argument == {
        "data": None,
        "errors": [{"message": "Invalid input for NonNull type"}],
    }
    deleted = await upstream(
        f'mutation {{ deleteSession(sessionId: "{uuid.uuid4()}") }}', user=user
    )
    assert deleted == {"data": None, "errors": [{"message": "NOT_FOUND: session not found"}]}


# Row-level security and roles (row_level_security.out, permissions_*.out)


async def test_rls_hides_other_users_rows(upstream: Upstream) -> None:
    alice, bob = new_user(), new_user()
    [sid] = await _sessions(upstream, alice, ["alice's"])
    assert (await upstream("{ sessionCollection { totalCount } }", user=bob))["data"][
        "sessionCollection"
    ]["totalCount"] == 0
    updated = await upstream(
        f'mutation {{ updateSessionCollection(set: {{title: "bob"}}, filter: {{id: {{eq: "{sid}"}}}}) {{ affectedCount }} }}',
        user=bob,
    )
    assert updated == {"data": {"updateSessionCollection": {"affectedCount": 0}}}
    by_pk = await upstream(f'{{ sessionByPk(id: "{sid}") {{ title }} }}', user=bob)
    assert by_pk == {"data": {"sessionByPk": None}}
    mine = await upstream(f'{{ sessionByPk(id: "{sid}") {{ title }} }}', user=alice)
    assert mine == {"data": {"sessionByPk": {"title": "alice's"}}}


async def test_anon_sees_an_empty_schema(upstream: Upstream) -> None:
    assert await upstream("{ sessionCollection { totalCount } }") == {
        "data": None,
        "errors": [{"message": 'Unknown field "sessionCollection" on type Query'}],
    }
    assert await upstream('mutation { deleteSession(sessionId: "x") }') == {
        "data": None,
        "errors": [{"message": "Unknown type Mutation"}],
    }


# The platform in front (Kong, PostgREST)


async def test_keys_and_tokens_at_the_door(upstream: Upstream) -> None:
    user = new_user()
    no_key = await upstream.http.post("/graphql/v1", json={"query": "{ __typename }"})
    assert no_key.status_code == 401
    bad_token = await upstream.post("{ __typename }", headers={"Authorization": "Bearer nope"})
    assert (bad_token.status_code, bad_token.json()["code"]) == (401, "PGRST301")
    expired = jwt.encode(
        {
            "sub": str(user.id),
            "role": "authenticated",
            "aud": "authenticated",
            "exp": int(time.time()) - 5,
        },
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    expired_reply = await upstream.post(
        "{ __typename }", headers={"Authorization": f"Bearer {expired}"}
    )
    assert (expired_reply.status_code, expired_reply.json()["code"]) == (401, "PGRST303")
    get = await upstream.http.get("/graphql/v1", headers={"apikey": TEST_ANON_KEY})
    assert get.status_code == 404
