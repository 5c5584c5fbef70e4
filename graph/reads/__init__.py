"""Compiled reads: a query document planned once, then answered by one store statement.

Strawberry executes a document field by field in Python; for the reads the lift-sys
frontend sends over and over (`session`, `sessions`) that cost more than the database
work itself. A store that can (the Postgres backend) compiles a planned document into
one statement whose result is the response's `data`. Everything else, and every request
that would produce an error, goes through Strawberry unchanged.
"""
