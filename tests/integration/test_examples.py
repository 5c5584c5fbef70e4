"""The examples are code people copy: they must work against the real service."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from graphql import build_schema, parse, validate

from tests.support.serving import cli_token, free_port, running_service

ROOT = Path(__file__).resolve().parents[2]


def test_frontend_operations_validate_against_the_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    document = parse((ROOT / "examples" / "operations.graphql").read_text())
    assert validate(schema, document) == []
    assert len(document.definitions) >= 12


def test_walk_session_script_finalizes_a_session(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_service(data_dir, free_port()) as url:
        token = cli_token(data_dir, uuid.uuid4())
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                str(ROOT / "examples" / "walk_session.py"),
                "--url",
                url,
                "--token",
                token,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "finalized" in result.stdout
    assert '"status": "FINALIZED"' in result.stdout
    assert '"revisions": 3' in result.stdout
