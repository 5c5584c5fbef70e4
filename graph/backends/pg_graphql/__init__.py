"""The pg_graphql store: Supabase's /graphql/v1 with the caller's own JWT.

client.py     gql over aiohttp: the one HTTP stack, the one error mapper
documents.py  operations/*.graphql with node fragments made from the description
rows.py       pg_graphql's nodes as the port's rows
store.py      the port's methods
compiled.py   a planned query as one upstream document, its answer reshaped into ours
"""

from graph.backends.pg_graphql.client import UpstreamProtocolError
from graph.backends.pg_graphql.store import PgGraphqlBackend

__all__ = ["PgGraphqlBackend", "UpstreamProtocolError"]
