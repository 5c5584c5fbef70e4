"""Which document a request runs: the text it sends, or the one its id names.

A request names a document by `documentId` (persisted documents) or by
`extensions.persistedQuery.sha256Hash` (Apollo's APQ, which may also send the text to
register it). Ids resolve against the manifest first, then against the documents
registered by APQ in this process (a bounded, least-recently-used cache).

In trusted-only mode only the manifest runs: free text and registration are refused before
any parsing, except introspection when the schema allows it (recognised by parsing, but
only a text that names `__schema` or `__type` is parsed at all).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

from graph.documents.ids import document_id, parse_document_id, sha256_hex
from graph.documents.manifest import TrustedDocument
from graph.errors import BadUserInput, PersistedQueryNotFound, TrustedDocumentsOnly

REGISTERED_DOCUMENTS = 1_000
MAX_REGISTERED_CHARS = 16 * 1024  # what the read planner caches; longer texts run unregistered
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})

Source = Literal["manifest", "registered"]


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document a request runs, and where it came from."""

    text: str
    digest: str
    source: Source

    @property
    def id(self) -> str:
        return document_id(self.digest)


class Documents:
    def __init__(
        self,
        trusted: Sequence[TrustedDocument] = (),
        *,
        trusted_only: bool = False,
        introspection: bool = True,
        max_tokens: int = 2_000,
        registered_size: int = REGISTERED_DOCUMENTS,
    ) -> None:
        self._trusted = {document.digest: document.text for document in trusted}
        self.trusted_only = trusted_only
        self._introspection = introspection
        self._max_tokens = max_tokens
        self._registered: OrderedDict[str, str] = OrderedDict()
        self._registered_size = registered_size

    @property
    def trusted(self) -> Mapping[str, str]:
        return self._trusted

    def resolve(self, request: Mapping[str, object]) -> Resolved | None:
        """The named document (or a trusted text), None to run the request's text as it
        is; raises the client's error when neither may run."""
        query = request.get("query")
        if query == "":  # graphql-ws requires a string: an id is sent with an empty one
            query = None
        raw_id = request.get("documentId")
        extensions = request.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if raw_id is not None:
            return self._by_document_id(raw_id, query)
        if persisted is not None:
            return self._by_persisted_query(persisted, query)
        if query is None:
            return None  # nothing to run: the executor says so (or serves GraphiQL)
        if not self.trusted_only:
            return None
        if isinstance(query, str):
            digest = sha256_hex(query)  # the full text of a trusted document may run
            if digest in self._trusted:
                return Resolved(query, digest, "manifest")
            if self._introspection and self._is_introspection(query):
                return None
        raise TrustedDocumentsOnly(
            "this server runs only its trusted documents: send a documentId from its manifest"
        )

    def _by_document_id(self, raw_id: object, query: object) -> Resolved:
        digest = parse_document_id(raw_id) if isinstance(raw_id, str) else None
        if digest is None:
            raise BadUserInput("documentId must be 'sha256:' followed by 64 lowercase hex digits")
        if query is not None:
            raise BadUserInput("send a documentId or a query, not both")
        found = self._known(digest)
        if found is None:
            raise PersistedQueryNotFound(f"no document has the id {document_id(digest)}")
        return found

    def _by_persisted_query(self, persisted: object, query: object) -> Resolved:
        digest = None
        if isinstance(persisted, dict) and persisted.get("version") == 1:
            sha = persisted.get("sha256Hash")
            digest = parse_document_id(sha) if isinstance(sha, str) and ":" not in sha else None
        if digest is None:
            raise BadUserInput(
                "extensions.persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex>}"
            )
        if query is None:
            found = self._known(digest)
            if found is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")  # Apollo's exact words
            return found
        if not isinstance(query, str) or sha256_hex(query) != digest:
            raise BadUserInput("extensions.persistedQuery.sha256Hash is not the query's sha256")
        if digest in self._trusted:
            return Resolved(query, digest, "manifest")
        if self.trusted_only:
            raise TrustedDocumentsOnly(
                "this server runs only its trusted documents: add the document to its "
                "manifest instead of registering it"
            )
        self._register(digest, query)
        return Resolved(query, digest, "registered")

    def _known(self, digest: str) -> Resolved | None:
        text = self._trusted.get(digest)
        if text is not None:
            return Resolved(text, digest, "manifest")
        if self.trusted_only:
            return None
        text = self._registered.get(digest)
        if text is None:
            return None
        self._registered.move_to_end(digest)
        return Resolved(text, digest, "registered")

    def _register(self, digest: str, text: str) -> None:
        if len(text) > MAX_REGISTERED_CHARS:
            return
        self._registered[digest] = text
        self._registered.move_to_end(digest)
        if len(self._registered) > self._registered_size:
            self._registered.popitem(last=False)

    def _is_introspection(self, query: str) -> bool:
        """Whether every operation of `query` asks only for introspection fields."""
        if "__schema" not in query and "__type" not in query:
            return False
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError:
            return False
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        return bool(operations) and all(
            isinstance(selection, FieldNode) and selection.name.value in _INTROSPECTION_FIELDS
            for operation in operations
            for selection in operation.selection_set.selections
        )
