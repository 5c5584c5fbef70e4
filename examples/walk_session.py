"""Walk a whole specification session through the gateway with gql:
create it from a prompt with draft 1, answer each hole, add the drafts lift-sys would
produce, and finalize.

    TOKEN=$(.venv/bin/session-graph token --user <uuid>)
    .venv/bin/python examples/walk_session.py --token "$TOKEN"

--url defaults to http://127.0.0.1:8000/graphql (`make serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
from pathlib import Path
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

OPERATIONS = (Path(__file__).parent / "operations.graphql").read_text()

HOLES = {
    "return_type": ("float", "REFINE_SIGNATURE"),
    "input_constraints": ("price >= 0 and 0 <= rate <= 1", "ADD_CONSTRAINT"),
}

DRAFT_1: dict[str, Any] = {
    "intent": {"summary": "Create a calculate_discount function", "rationale": None, "holes": []},
    "signature": {
        "name": "calculate_discount",
        "parameters": [
            {"name": "price", "type_hint": "float", "description": None},
            {"name": "rate", "type_hint": "float", "description": None},
        ],
        "returns": None,
        "holes": [
            {
                "identifier": "return_type",
                "type_hint": "type",
                "description": "Specify return type",
                "constraints": {},
                "kind": "signature",
            }
        ],
    },
    "effects": [{"description": "Logs the discount", "holes": []}],
    "assertions": [
        {
            "predicate": "Specify constraints on numeric inputs",
            "rationale": None,
            "holes": [
                {
                    "identifier": "input_constraints",
                    "type_hint": "assertion",
                    "description": "Specify constraints on numeric inputs",
                    "constraints": {},
                    "kind": "assertion",
                }
            ],
        }
    ],
    "metadata": {"source_path": None, "language": "python", "origin": "prompt", "evidence": []},
}


def next_draft(ir: dict[str, Any], hole: str, answer: str) -> dict[str, Any]:
    """What lift-sys does with an answer: patch the IR and drop the hole."""
    patched = copy.deepcopy(ir)
    if hole == "return_type":
        patched["signature"]["returns"] = answer
        patched["signature"]["holes"] = []
    else:
        patched["assertions"][0] = {"predicate": answer, "rationale": None, "holes": []}
    return patched


async def walk(url: str, token: str) -> dict[str, Any]:
    transport = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport) as session:

        async def run(operation: str, **variables: Any) -> dict[str, Any]:
            request = GraphQLRequest(
                OPERATIONS, variable_values=variables, operation_name=operation
            )
            result: dict[str, Any] = await session.execute(request)
            return result

        created = await run(
            "CreateSession",
            input={
                "prompt": "Create a calculate_discount function that takes float price and rate",
                "title": "calculate_discount",
                "initialDraft": {"ir": DRAFT_1, "validationStatus": "INCOMPLETE"},
                "idempotencyKey": "walk-session-example",
            },
        )
        current = created["createSession"]["session"]
        ir = current["currentDraft"]["ir"]
        print(f"created {current['id']}: holes {current['unresolvedHoles']}")

        for hole in list(current["unresolvedHoles"]):
            text, kind = HOLES[hole]
            resolved = await run(
                "ResolveHole",
                input={
                    "sessionId": current["id"],
                    "holeId": hole,
                    "text": text,
                    "type": kind,
                    "expectedVersion": current["version"],
                },
            )
            current = resolved["resolveHole"]["session"]
            ir = next_draft(ir, hole, text)
            remaining = [h for h in current["unresolvedHoles"] if h != hole]
            drafted = await run(
                "AddDraft",
                input={
                    "sessionId": current["id"],
                    "ir": ir,
                    "validationStatus": "VALID" if not remaining else "INCOMPLETE",
                    "appliedHoleIds": [hole],
                    "expectedVersion": current["version"],
                },
            )
            current = drafted["addDraft"]["session"]
            print(
                f"answered {hole}: draft {drafted['addDraft']['draft']['version']}, "
                f"holes left {current['unresolvedHoles']}"
            )

        finalized = await run(
            "FinalizeSession", input={"id": current["id"], "expectedVersion": current["version"]}
        )
        final = finalized["finalizeSession"]["session"]
        print(f"finalized {final['id']} at version {final['version']}")
        history = await run("GetSession", id=final["id"])
        return history["session"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--token", required=True, help="from: session-graph token --user <uuid>")
    args = parser.parse_args()
    session = asyncio.run(walk(args.url, args.token))
    print(
        json.dumps(
            {"status": session["status"], "revisions": session["revisions"]["totalCount"]}, indent=2
        )
    )


if __name__ == "__main__":
    main()
