"""A strict stand-in for Supabase's pg_graphql 1.6 endpoint (/graphql/v1), for tests only.

It serves our schema the way pg_graphql reflects it, over the same real Postgres, with
pg_graphql's names, wire formats and error messages, and it rejects what pg_graphql
rejects. It was derived from pg_graphql's documentation and its test suite
(test/sql, test/expected), read, not copied. It implements the part of pg_graphql that
a client of our tables and functions can reach: collections with filter, orderBy and
cursor pagination, ByPk, relationships, insert/update/delete with atMost, functions as
Mutation fields, fragments, aliases, variables and @skip/@include. Whatever it does not
implement it refuses with an error, never with a made-up answer.
"""
