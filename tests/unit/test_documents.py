"""The documents registry and the manifest, without a server: ids, APQ's bounded cache,
trusted-only refusals, and the manifest's checks (also as `session-graph documents check`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.cli import main
from graph.documents.ids import parse_document_id, sha256_hex
from graph.documents.manifest import ManifestError, TrustedDocument, read_manifest
from graph.documents.registry import Documents
from graph.errors import BadUserInput, PersistedQueryNotFound, TrustedDocumentsOnly
from tests.support.examples import example_operation

VIEWER = "query Viewer { viewer { id } }"


def apq(query: str | None, digest: str) -> dict[str, object]:
    request: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    }
    if query is not None:
        request["query"] = query
    return request


def test_ids_are_sha256_hex_with_or_without_the_prefix() -> None:
    digest = sha256_hex(VIEWER)
    assert parse_document_id(digest) == digest
    assert parse_document_id("sha256:" + digest) == digest
    assert parse_document_id("sha256:" + digest.upper()) is None
    assert parse_document_id("sha1:" + digest[:40]) is None
    assert parse_document_id(digest[:-1]) is None


def test_free_text_runs_as_sent_unless_trusted_only() -> None:
    assert Documents().resolve({"query": VIEWER}) is None
    with pytest.raises(TrustedDocumentsOnly):
        Documents(trusted_only=True).resolve({"query": VIEWER})


def test_a_trusted_text_sent_in_full_runs_in_trusted_only_mode() -> None:
    digest = sha256_hex(VIEWER)
    documents = Documents([TrustedDocument(digest, VIEWER)], trusted_only=True)
    resolved = documents.resolve({"query": VIEWER})
    assert resolved is not None
    assert (resolved.id, resolved.source) == ("sha256:" + digest, "manifest")


def test_registered_documents_are_bounded_least_recently_used_first() -> None:
    documents = Documents(registered_size=2)
    texts = [f"query Q{n} {{ viewer {{ id }} }}" for n in range(3)]
    for text in texts[:2]:
        assert documents.resolve(apq(text, sha256_hex(text))) is not None
    documents.resolve(apq(None, sha256_hex(texts[0])))  # Q0 used again: Q1 is the oldest
    documents.resolve(apq(texts[2], sha256_hex(texts[2])))
    with pytest.raises(PersistedQueryNotFound):
        documents.resolve(apq(None, sha256_hex(texts[1])))
    for kept in (texts[0], texts[2]):
        resolved = documents.resolve({"documentId": "sha256:" + sha256_hex(kept)})
        assert resolved is not None
        assert resolved.text == kept


def test_a_mismatched_hash_registers_nothing() -> None:
    documents = Documents()
    with pytest.raises(BadUserInput):
        documents.resolve(apq(VIEWER, sha256_hex(VIEWER + " ")))
    with pytest.raises(PersistedQueryNotFound):
        documents.resolve(apq(None, sha256_hex(VIEWER + " ")))


def test_introspection_is_recognised_only_when_allowed_and_only_introspection() -> None:
    allowed = Documents(trusted_only=True, introspection=True)
    assert allowed.resolve({"query": "{ __schema { queryType { name } } }"}) is None
    for sneaky in (
        "{ __schema { queryType { name } } viewer { id } }",
        "{ viewer { id } } # __schema",
        "{ ...F } fragment F on Query { __schema { queryType { name } } }",
    ):
        with pytest.raises(TrustedDocumentsOnly):
            allowed.resolve({"query": sneaky})
    with pytest.raises(TrustedDocumentsOnly):
        Documents(trusted_only=True, introspection=False).resolve(
            {"query": "{ __schema { queryType { name } } }"}
        )


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("[]", "JSON object"),
        ("{", "not JSON"),
        (json.dumps({"abc": VIEWER}), "sha256"),
        (json.dumps({sha256_hex(VIEWER): 42}), "must be a string"),
        (json.dumps({sha256_hex(VIEWER + " "): VIEWER}), "not the sha256 of its document"),
    ],
)
def test_a_malformed_manifest_is_refused(tmp_path: Path, manifest: str, problem: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(manifest)
    with pytest.raises(ManifestError, match=problem):
        read_manifest(path)


def write(path: Path, *documents: str) -> Path:
    path.write_text(json.dumps({sha256_hex(text): text for text in documents}))
    return path


def test_documents_check_reports_each_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screen, create = example_operation("SessionScreen"), example_operation("CreateSession")
    assert main(["documents", "check", str(write(tmp_path / "m.json", screen, create))]) == 0
    out = capsys.readouterr().out
    assert f"ok   sha256:{sha256_hex(screen)} query SessionScreen: one statement on postgres" in out
    assert (
        f"ok   sha256:{sha256_hex(create)} mutation CreateSession: its SQL function and one"
        " payload statement on postgres"
    ) in out
    assert "2 documents, all valid" in out


def test_documents_check_fails_on_any_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "query Broken { viewer { nope } }"
    two = "query A { viewer { id } } query B { viewer { id } }"
    path = write(tmp_path / "m.json", VIEWER, broken, two)
    assert main(["documents", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL sha256:{sha256_hex(broken)} query Broken: Cannot query field 'nope'" in out
    assert f"FAIL sha256:{sha256_hex(two)}" in out
    assert "one operation" in out
    assert "3 documents, 2 with problems" in out
    assert main(["documents", "check", str(tmp_path / "missing.json")]) == 2


def test_serve_stops_before_serving_a_bad_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "query Broken { viewer { nope } }"
    monkeypatch.setenv("GRAPH_TRUSTED_DOCUMENTS", str(write(tmp_path / "m.json", broken)))
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("SUPABASE_JWT_SECRET", "a-secret-for-this-test-only-0123456789abcdef")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert f"trusted document sha256:{sha256_hex(broken)}: Cannot query field 'nope'" in err
