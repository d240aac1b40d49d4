"""`alpaca-server`: the language server over stdio (default) or TCP (`--tcp PORT`, for debugging)."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _quiet_expected_errors(record: logging.LogRecord) -> bool:
    """pygls logs every error response with a traceback; bad params are the client's, not ours."""
    exc = record.exc_info[1] if record.exc_info else None
    if exc is not None and type(exc).__name__ in ("JsonRpcInvalidParams", "JsonRpcException"):
        record.exc_info = None
        record.exc_text = None
        record.msg, record.args = f"request failed: {exc}", ()
        record.levelno, record.levelname = logging.INFO, "INFO"
        return logging.getLogger("alpaca_server").isEnabledFor(logging.INFO)
    return True


def _limit_malloc_arenas(argv: list[str] | None) -> None:
    """glibc gives busy threads their own malloc arenas; with torch, LanceDB and our workers that
    is ~100 MB of RSS for nothing. The limit is read at process start, so re-exec once with it."""
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX") or argv is not None:
        return
    env = dict(os.environ, MALLOC_ARENA_MAX="2")
    try:
        os.execve(sys.executable, [sys.executable, "-m", "alpaca_server", *sys.argv[1:]], env)
    except OSError:
        pass  # run as we are


def _user_only_log(path: str) -> logging.Handler:
    """Logs may quote snippets of the docs: the file is created readable by the user only."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return logging.FileHandler(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="alpaca-server", description="Alpaca docs language server.")
    parser.add_argument("--tcp", type=int, metavar="PORT", help="listen on TCP PORT instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--log-file", help="write logs here (default: stderr)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    _limit_malloc_arenas(argv)

    handler = _user_only_log(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_quiet_expected_errors)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("alpaca_server").setLevel(args.log_level)

    import alpaca_index  # noqa: F401 - sets the offline switches before any model library loads
    from alpaca_server.factory import create_language_server

    server = create_language_server()
    try:
        if args.tcp:
            server.start_tcp(args.host, args.tcp)
        else:
            server.start_io()
    finally:
        server.close()


if __name__ == "__main__":
    main()
