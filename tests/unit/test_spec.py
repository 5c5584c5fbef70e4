"""The IR as the graph serves it (graph/spec/): holes and their status, suggestions, and
the comparison of two drafts, as pure functions, with properties over generated IRs."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.spec.compare import WEIGHTS, compare
from graph.spec.holes import HoleAt, Status, holes, status
from graph.spec.suggestions import MAX_SUGGESTIONS, RESOLUTION_TYPES, Suggester, suggest
from tests.support import DISCOUNT_IR, discount_ir


def hole(identifier: str, kind: str, type_hint: str = "t", **extra: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "type_hint": type_hint,
        "description": "",
        "constraints": {},
        "kind": kind,
        **extra,
    }


def test_the_domain_examples_holes_in_ir_order_with_where_they_sit() -> None:
    found = holes(DISCOUNT_IR)
    assert [(h.path, h.identifier, h.kind) for h in found] == [
        ("signature", "return_type", "signature"),
        ("assertions[0]", "input_constraints", "assertion"),
    ]


def test_status_comes_from_the_sessions_resolutions() -> None:
    rows = [
        {"hole_id": "a", "applied": False},
        {"hole_id": "b", "applied": False},
        {"hole_id": "b", "applied": True},
    ]
    assert status("a", rows) is Status.RESOLVED
    assert status("b", rows) is Status.APPLIED
    assert status("c", rows) is Status.OPEN


def test_a_return_type_hole_is_offered_types_that_fit_the_parameters() -> None:
    [return_type, _] = holes(DISCOUNT_IR)
    texts = [s.text for s in suggest(return_type, DISCOUNT_IR)]
    assert texts[0] == "float"  # both parameters are floats
    assert all(s.resolution_type == "refine_signature" for s in suggest(return_type, DISCOUNT_IR))


def test_an_assertion_hole_is_offered_bounds_for_numeric_parameters() -> None:
    [_, constraints] = holes(DISCOUNT_IR)
    texts = [s.text for s in suggest(constraints, DISCOUNT_IR)]
    assert texts[:3] == ["price >= 0", "0 <= rate <= 1", "rate >= 0"]


def test_non_empty_for_text_parameters_and_constraint_entries_first() -> None:
    ir = discount_ir([])
    ir["signature"]["parameters"] = [{"name": "code", "type_hint": "str", "description": None}]
    target = HoleAt(
        "assertions[0]", hole("c", "assertion", constraints={"form": "code matches [A-Z]{3}"})
    )
    texts = [s.text for s in suggest(target, ir)]
    assert texts == ["code matches [A-Z]{3}", "len(code) > 0"]


def test_a_hole_with_nothing_to_go_on_falls_back_to_its_description() -> None:
    target = HoleAt("intent", hole("x", "implementation", description="Pick the algorithm"))
    assert [s.text for s in suggest(target, {})] == ["Pick the algorithm"]


IDENTIFIERS = st.sampled_from(["a", "b", "return_type", "input_constraints"])
KINDS = st.sampled_from(sorted(RESOLUTION_TYPES))
TYPES = st.sampled_from(["int", "float", "str", "list[int]", "type", "bool", "", "Decimal"])
HOLES = st.builds(
    hole,
    IDENTIFIERS,
    KINDS,
    TYPES,
    description=st.sampled_from(["", "Specify it"]),
    constraints=st.dictionaries(
        st.sampled_from(["x", "y"]), st.sampled_from(["v", "w", " "]), max_size=2
    ),
)
PARAMETERS = st.lists(
    st.builds(
        lambda n, t: {"name": n, "type_hint": t, "description": None},
        st.sampled_from(["price", "rate", "name", "items"]),
        TYPES,
    ),
    max_size=4,
)


@settings(max_examples=200)
@given(target=HOLES, parameters=PARAMETERS)
def test_suggestions_are_few_distinct_usable_and_the_same_every_time(
    target: dict[str, Any], parameters: list[dict[str, Any]]
) -> None:
    ir = discount_ir([])
    ir["signature"]["parameters"] = parameters
    at = HoleAt("signature", target)
    found = suggest(at, ir)
    assert len(found) <= MAX_SUGGESTIONS
    assert len({s.text for s in found}) == len(found)
    assert all(s.text.strip() and s.rationale for s in found)
    assert all(s.resolution_type == RESOLUTION_TYPES[target["kind"]] for s in found)
    assert found == suggest(at, copy.deepcopy(ir))


def test_comparing_a_draft_with_itself_is_identical() -> None:
    result = compare(DISCOUNT_IR, copy.deepcopy(DISCOUNT_IR))
    assert result.similarity == 1.0
    assert result.changes == []
    assert {c.category: c.similarity for c in result.categories} == dict.fromkeys(WEIGHTS, 1.0)


def test_the_domain_examples_v1_and_v2() -> None:
    v2 = discount_ir(["input_constraints"])
    v2["assertions"][0]["holes"] = []
    v2["signature"]["returns"] = "float"
    v2["signature"]["holes"] = []
    result = compare(DISCOUNT_IR, v2)
    paths = {(c.kind, c.path, c.severity) for c in result.changes}
    assert ("CHANGED", "signature.returns", "ERROR") in paths
    assert ("REMOVED", "signature.holes[0]", "ERROR") in paths
    assert ("REMOVED", "assertions[0].holes[0]", "WARNING") in paths
    assert 0 < result.similarity < 1


def _at(ir: Any, path: str) -> Any:
    value = ir
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        value = value[int(index)] if index else value[key]
    return value


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "float"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "name"]), inner, max_size=3)
    ),
    max_leaves=8,
)
IRS = st.fixed_dictionaries(
    dict.fromkeys(("intent", "signature", "effects", "assertions"), JSON),
    optional={"metadata": JSON, "relationships": JSON},
)


@settings(max_examples=300)
@given(left=IRS, right=IRS)
def test_comparison_is_symmetric_and_its_paths_point_at_real_values(
    left: dict[str, Any], right: dict[str, Any]
) -> None:
    forward, backward = compare(left, right), compare(right, left)
    swap = {"ADDED": "REMOVED", "REMOVED": "ADDED", "CHANGED": "CHANGED"}
    assert sorted(
        (swap[c.kind], c.path, repr(c.after), repr(c.before)) for c in forward.changes
    ) == sorted((c.kind, c.path, repr(c.before), repr(c.after)) for c in backward.changes)
    assert forward.similarity == backward.similarity
    for change in forward.changes:
        if change.kind != "ADDED":
            assert _at(left, change.path) == change.before
        if change.kind != "REMOVED":
            assert _at(right, change.path) == change.after
    assert 0.0 <= forward.similarity <= 1.0
    assert (forward.changes == []) == (forward.similarity == 1.0)


@settings(max_examples=200)
@given(targets=st.lists(HOLES, min_size=2, max_size=6), parameters=PARAMETERS)
def test_one_suggester_for_an_ir_answers_each_hole_as_suggest_does(
    targets: list[dict[str, Any]], parameters: list[dict[str, Any]]
) -> None:
    """The Suggester shares answers between holes with the same inputs: never wrongly."""
    ir = discount_ir([])
    ir["signature"]["parameters"] = parameters
    suggester = Suggester(ir)
    for target in targets:
        at = HoleAt("signature", target)
        assert list(suggester.suggest(at)) == suggest(at, copy.deepcopy(ir))
