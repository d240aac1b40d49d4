"""Requests that run in the background (answers, downloads, tuning), each with the cancel flag its
worker polls. A feature owns one `Running`; its cancel command and its `close` go through it."""

from __future__ import annotations

import threading

from alpaca_server.params import arguments


class Running(dict[str, threading.Event]):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what  # "answer", "download", "tune": named in the reply to an unknown requestId

    def start(self, request_id: str) -> threading.Event:
        flag = self[request_id] = threading.Event()
        return flag

    def cancel_all(self) -> None:
        for flag in self.values():
            flag.set()

    def cancel(self, *args) -> dict:
        """The `…Cancel {requestId}` command."""
        p = arguments(args, "requestId")
        flag = self.get(str(p.get("requestId")))
        if flag is None:
            return {"cancelled": False, "reason": f"no running {self.what} with that requestId"}
        flag.set()
        return {"cancelled": True}
