"""Local stand-ins for the two model sources, so the set-up is tested offline and for real over HTTP:
a hub that speaks huggingface_hub's download API (HEAD for metadata, GET with Range) and an Ollama that
speaks /api/tags, streamed /api/pull and streamed /v1/chat/completions."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server:
    def __init__(self, handler):
        self.requests: list[dict] = []
        outer = self

        class Handler(handler):
            server_state = outer

            def log_message(self, *args):  # quiet test output
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set() if hasattr(self, "release") else None
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeHub(_Server):
    """Serves `files[(repo, filename)] = bytes` at `/{repo}/resolve/{revision}/{filename}`.

    `drop_after`: the first GET sends that many bytes and closes the connection (a network drop);
    `stall_after`: the first GET sends that many bytes and then hangs until released (for a killed run);
    `wrong_sha`: the metadata announces a checksum the bytes don't have;
    `rate`: bytes a second a GET sends (None: as fast as it can), so a client's progress can be watched."""

    def __init__(self, files: dict, drop_after: int | None = None, stall_after: int | None = None,
                 wrong_sha: bool = False, rate: float | None = None):
        self.files, self.drop_after, self.stall_after, self.wrong_sha = files, drop_after, stall_after, wrong_sha
        self.rate = rate
        self.shas = {key: hashlib.sha256(data).hexdigest() for key, data in files.items()}
        self.release = threading.Event()
        self.gets = 0
        super().__init__(_HubHandler)

    def ranges(self) -> list[str | None]:
        return [r["range"] for r in self.requests if r["method"] == "GET"]


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _file(self):
        state = self.server_state
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return state, None
        self.key = ("/".join(parts[:2]), "/".join(parts[4:]))
        return state, state.files.get(self.key)

    def _meta_headers(self, data: bytes) -> None:
        sha = self.server_state.shas[self.key]
        if self.server_state.wrong_sha:
            sha = hashlib.sha256(data + b"tampered").hexdigest()
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("ETag", f'"{sha}"')
        self.send_header("Accept-Ranges", "bytes")

    def do_HEAD(self):
        state, data = self._file()
        state.requests.append({"method": "HEAD", "path": self.path, "range": None})
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self._meta_headers(data)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def do_GET(self):
        state, data = self._file()
        state.requests.append({"method": "GET", "path": self.path, "range": self.headers.get("Range")})
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
        body = data[start:]
        self.send_response(206 if start else 200)
        self._meta_headers(data)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        state.gets += 1
        first = state.gets == 1
        if first and state.drop_after is not None:
            self.wfile.write(body[:state.drop_after])
            self.wfile.flush()
            self.close_connection = True
            return
        if first and state.stall_after is not None:
            self.wfile.write(body[:state.stall_after])
            self.wfile.flush()
            state.release.wait(30)
            self.close_connection = True
            return
        if state.rate:
            step = 1 << 18
            for at in range(0, len(body), step):
                self.wfile.write(body[at:at + step])
                time.sleep(step / state.rate)
            return
        self.wfile.write(body)


class FakeOllama(_Server):
    """An Ollama with `models` (name → size); `catalog` lists what /api/pull can fetch.
    Chat completions stream `reply` word by word, as OpenAI-style server-sent events."""

    def __init__(self, models: dict, catalog: dict, reply: str = "Scale to zero with a MinCapacity of 0 [1]."):
        self.models, self.catalog, self.reply = dict(models), catalog, reply
        self.auth: list[str | None] = []
        super().__init__(_OllamaHandler)


class _OllamaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _json(self, code: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, content_type: str, lines) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            data = line.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        state = self.server_state
        state.requests.append({"method": "GET", "path": self.path})
        if self.path == "/api/tags":
            self._json(200, {"models": [
                {"name": n, "model": n, "size": s, "digest": hashlib.sha256(n.encode()).hexdigest(),
                 "modified_at": "2026-01-01T00:00:00Z",
                 "details": {"format": "gguf", "family": "llama", "parameter_size": "7B", "quantization_level": "Q4_K_M"}}
                for n, s in state.models.items()]})
        elif self.path == "/api/version":
            self._json(200, {"version": "0.0.0-standin"})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self):
        state = self.server_state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        state.requests.append({"method": "POST", "path": self.path, "body": body})
        if self.path == "/api/pull":
            name = body.get("model") or body.get("name")
            if name not in state.catalog:
                self._stream("application/x-ndjson", [json.dumps({"error": "pull model manifest: file does not exist"})
                                                      + "\n"])
                return
            size = state.catalog[name]
            lines = [json.dumps({"status": "pulling manifest"}) + "\n"]
            for done in range(0, size + 1, max(1, size // 4)):
                lines.append(json.dumps({"status": "pulling 4a03", "digest": "sha256:4a03", "total": size,
                                         "completed": done}) + "\n")
            lines += [json.dumps({"status": "verifying sha256 digest"}) + "\n", json.dumps({"status": "success"}) + "\n"]
            state.models[name] = size
            self._stream("application/x-ndjson", lines)
        elif self.path == "/v1/chat/completions":
            state.auth.append(self.headers.get("Authorization"))
            if body.get("model") not in state.models:
                self._json(404, {"error": {"message": f"model {body.get('model')!r} not found"}})
                return
            events = []
            for word in state.reply.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                events.append(f"data: {json.dumps(chunk)}\n\n")
                time.sleep(0.001)
            events.append("data: [DONE]\n\n")
            self._stream("text/event-stream", events)
        else:
            self._json(404, {"error": "not found"})
