from __future__ import annotations

import pytest

from graph.domain import (
    hole_identifiers,
    validate_ir,
    validate_metadata,
    validate_smt_results,
)
from graph.errors import BadUserInput
from tests.support import DISCOUNT_IR, discount_ir


def test_holes_of_the_domain_example_are_its_ambiguities() -> None:
    assert hole_identifiers(DISCOUNT_IR) == ["return_type", "input_constraints"]


def test_holes_are_found_in_every_clause_once_each() -> None:
    ir = discount_ir(["a", "b"])
    ir["effects"][0]["holes"] = [
        {
            "identifier": "a",
            "type_hint": "t",
            "description": "",
            "constraints": {},
            "kind": "effect",
        },
        {
            "identifier": "c",
            "type_hint": "t",
            "description": "",
            "constraints": {},
            "kind": "effect",
        },
    ]
    ir["intent"]["holes"] = [
        {
            "identifier": "d",
            "type_hint": "t",
            "description": "",
            "constraints": {},
            "kind": "intent",
        }
    ]
    assert hole_identifiers(ir) == ["d", "a", "c", "b"]


def test_the_domain_example_is_a_valid_ir() -> None:
    assert validate_ir(DISCOUNT_IR) is DISCOUNT_IR


def test_extra_clauses_are_allowed() -> None:
    ir = discount_ir()
    ir["constraints"] = [{"kind": "return", "value": "float"}]
    assert validate_ir(ir)["constraints"] == [{"kind": "return", "value": "float"}]


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda ir: ir.pop("intent"), "intent"),
        (lambda ir: ir["signature"].update(name=3), "signature.name"),
        (lambda ir: ir["signature"]["holes"][0].update(kind="wish"), "signature.holes.0.kind"),
        (lambda ir: ir["metadata"].pop("language"), "metadata.language"),
        (lambda ir: ir.update(effects="none"), "effects"),
    ],
)
def test_malformed_irs_are_refused_with_where(mutate: object, problem: str) -> None:
    ir = discount_ir()
    mutate(ir)  # type: ignore[operator]
    with pytest.raises(BadUserInput, match=problem):
        validate_ir(ir)


def test_an_ir_must_be_an_object() -> None:
    with pytest.raises(BadUserInput, match="JSON object"):
        validate_ir(["not", "an", "ir"])


def test_oversized_json_is_refused() -> None:
    with pytest.raises(BadUserInput, match="larger than"):
        validate_metadata({"blob": "x" * 600_000})


def test_smt_results_are_predicate_status_model_objects() -> None:
    good = [{"predicate": "price >= 0", "status": "sat", "model": {"price": 1}}]
    assert validate_smt_results(good) == good
    assert validate_smt_results(None) == []
    with pytest.raises(BadUserInput):
        validate_smt_results([{"status": "sat"}])
    with pytest.raises(BadUserInput):
        validate_smt_results({"predicate": "x"})
