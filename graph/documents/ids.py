"""Document ids: `sha256:<64 lowercase hex>` of the document's exact text."""

from __future__ import annotations

import hashlib
import re

PREFIX = "sha256:"
_HEX = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def document_id(hex_digest: str) -> str:
    """The id as the GraphQL over HTTP appendix writes it."""
    return PREFIX + hex_digest


def parse_document_id(raw: str) -> str | None:
    """The hex digest of `sha256:<hex>` or of a bare `<hex>` (codegen's manifest keys),
    else None."""
    digest = raw.removeprefix(PREFIX)
    return digest if _HEX.match(digest) else None
