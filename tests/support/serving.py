"""Runs `session-graph serve` as a newcomer would, in a subprocess on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "SUPABASE_", "GRAPH_"))
    }
    env.update(
        GRAPH_DATA_DIR=str(data_dir),
        GRAPH_PORT=str(port),
        GRAPH_LOG_LEVEL="WARNING",
        GRAPH_LOG_FORMAT="text",
    )
    env.update(extra)
    return env


@contextmanager
def running_service(data_dir: Path, port: int, *arguments: str, **extra: str) -> Iterator[str]:
    """`session-graph serve` until the block ends (SIGTERM, as Ctrl-C would)."""
    log_path = data_dir.parent / f"serve-{time.monotonic_ns()}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we build
            [sys.executable, "-m", "graph", "serve", *arguments],
            env=environment(data_dir, port, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{log_path.read_text()}")
            try:
                if httpx.post(url, json={"query": "{ __typename }"}, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not come up in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cli_token(data_dir: Path, user: uuid.UUID) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "graph", "token", "--user", str(user), "--ttl", "600"],
        env=environment(data_dir, 8000),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()
