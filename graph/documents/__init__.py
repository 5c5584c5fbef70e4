"""Trusted documents: operations a client names by the sha256 of their text.

Three forms reach the same registry (graph/documents/registry.py): a persisted document
(`documentId`, GraphQL over HTTP's appendix, what graphql-codegen's client preset sends),
Apollo's automatic persisted queries (`extensions.persistedQuery`), and a manifest of the
frontend's documents (`GRAPH_TRUSTED_DOCUMENTS`), checked against the schema at startup.
"""
