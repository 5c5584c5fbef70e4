"""The pg_graphql stand-in as a process of its own, for the overhead measurement:
`python -m bench.standin_server <database url> <port> <jwt secret> <anon key>`."""

from __future__ import annotations

import sys

import uvicorn

from tests.pg_graphql_standin.app import create_standin


def main() -> None:
    database_url, port, secret, anon_key = sys.argv[1:5]
    app, _ = create_standin(database_url, anon_key=anon_key, jwt_secret=secret)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
