"""Answer-model set-up for the editor: a thin adapter over `alpaca_index.models`.

- `alpaca.models.status` → `{answer, backend, egress, configPath, modelsDir, catalog, default, ollama}`
  (`ollama`: `{host, running, models}`; no network beyond a loopback Ollama).
- `alpaca.models.describe {name? | repo, file}` → the hub file's `{repo, file, size, sha256, path}`, asked
  before a download so the user sees its size and destination.
- `alpaca.models.pull {name? | repo, file, requestId?}` and `alpaca.models.ollamaPull {model, requestId?}`
  return `{requestId}` at once; progress streams as `alpaca/modelProgress` `{requestId, kind: "progress",
  done, total, status?}`, then one `{requestId, kind: "final", path? | model?, error? | cancelled?}`.
- `alpaca.models.cancel {requestId}`: a cancelled hub download keeps its partial file for the next pull.
- `alpaca.models.use {modelPath | endpoint, endpointModel?, contextSize? | ollama | none}` remembers the
  choice in the user config file (shared with the CLI) → `{answer, configPath}`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from alpaca_server.feature import Feature
from alpaca_server.params import arguments, invalid
from alpaca_server.running import Running

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)

PROGRESS = "alpaca/modelProgress"


def _spec(p: dict) -> list[str]:
    if p.get("repo") or p.get("file"):
        return [str(p.get("repo", "")), str(p.get("file", ""))]
    return [str(p["name"])] if p.get("name") else []


class ModelsFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.running = Running("download")

    def register(self) -> None:
        self.command("alpaca.models.status", self.status)
        self.command("alpaca.models.describe", self.describe)
        self.command("alpaca.models.pull", self.pull)
        self.command("alpaca.models.ollamaPull", self.ollama_pull)
        self.command("alpaca.models.cancel", self.running.cancel)
        self.command("alpaca.models.use", self.use)

    async def status(self, *args):
        return await self.server.run_wait(_status, self.server)

    async def describe(self, *args):
        from alpaca_index.models import hub

        p = arguments(args, "name")
        try:
            repo, filename = hub.resolve(_spec(p))
            remote = await self.server.run_wait(hub.remote, repo, filename)
        except hub.ModelError as exc:
            raise invalid(str(exc)) from None
        return remote.to_dict()

    def _start(self, p: dict, work) -> dict:
        ls = self.server
        request_id = str(p.get("requestId") or uuid.uuid4().hex[:12])
        if request_id in self.running:
            raise invalid(f"a download with requestId {request_id!r} is already running")
        flag = self.running.start(request_id)

        def run() -> None:
            from alpaca_index.models import hub

            last = [0.0]

            def progress(done: int, total: int | None, status: str = "") -> None:
                now = time.monotonic()
                if now - last[0] >= 0.2 or (total and done >= total):  # a few updates a second is plenty
                    last[0] = now
                    ls.notify(PROGRESS, {"requestId": request_id, "kind": "progress", "done": done, "total": total,
                                         "status": status})
            try:
                final = work(progress, flag.is_set)
            except hub.Cancelled:
                final = {"cancelled": True}
            except hub.ModelError as exc:
                final = {"error": str(exc)}
            except Exception as exc:  # never a dead worker: the client is waiting for a final message
                log.exception("model download failed")
                final = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                self.running.pop(request_id, None)
            ls.notify(PROGRESS, {"requestId": request_id, "kind": "final", **final})

        threading.Thread(target=run, name=f"alpaca-model-{request_id}", daemon=True).start()
        return {"requestId": request_id}

    def pull(self, *args):
        from alpaca_index.models import hub

        p = arguments(args, "name")
        try:
            repo, filename = hub.resolve(_spec(p))
        except hub.ModelError as exc:
            raise invalid(str(exc)) from None

        def work(progress, cancelled) -> dict:
            remote = hub.remote(repo, filename)
            path = hub.pull(remote, on_progress=progress, cancelled=cancelled)
            return {"path": str(path), "size": remote.size}
        return self._start(p, work)

    def ollama_pull(self, *args):
        from alpaca_index.models import ollama

        p = arguments(args, "model")
        model = p.get("model")
        if not isinstance(model, str) or not model.strip():
            raise invalid("alpaca.models.ollamaPull needs a `model` name")

        def work(progress, cancelled) -> dict:
            ollama.pull(model.strip(), on_progress=lambda status, done, total: progress(done, total, status),
                        cancelled=cancelled)
            return {"model": model.strip(), "endpoint": ollama.endpoint()}
        return self._start(p, work)

    def use(self, *args):
        from alpaca_index.models import config, hub, ollama

        p = arguments(args)
        ctx = p.get("contextSize")
        if ctx is not None and (isinstance(ctx, bool) or not isinstance(ctx, int) or ctx < 512):
            raise invalid("contextSize must be a whole number of tokens ≥ 512")
        try:
            if p.get("none"):
                path = config.forget()
            elif p.get("modelPath"):
                path = config.use(model_path=str(hub.check_gguf(Path(str(p["modelPath"])))), n_ctx=ctx)
            elif p.get("ollama"):
                path = config.use(endpoint=ollama.endpoint(), endpoint_model=str(p["ollama"]), endpoint_ctx=ctx)
            elif p.get("endpoint"):
                endpoint = str(p["endpoint"])
                if not endpoint.startswith(("http://", "https://")):
                    raise invalid(f"endpoint must be an http(s) URL, got {endpoint!r}")
                path = config.use(endpoint=endpoint, endpoint_model=str(p.get("endpointModel") or "mistral"),
                                  endpoint_ctx=ctx)
            else:
                raise invalid("alpaca.models.use needs modelPath, ollama, endpoint or none")
        except (hub.ModelError, config.ConfigError) as exc:
            raise invalid(str(exc)) from None
        ls = self.server
        ls.call_soon(ls.apply_settings, ls.settings)  # status (backend, egress) follows the new choice
        return {"answer": config.answer_model(), "configPath": str(path)}


def _status(ls: AlpacaServer) -> dict:  # off the event loop: looking for Ollama can take a moment
    from alpaca_index.models import config, hub, ollama

    settings = ls.settings.answer_settings()
    backend, egress = ls.settings.backend, ls.settings.egress
    running = ollama.detect()
    try:
        models = ollama.models() if running else []
    except hub.ModelError:
        models = []
    repo, filename = hub.CATALOG[hub.DEFAULT]
    return {"llamaCpp": find_spec("llama_cpp") is not None,  # a GGUF model needs it in the server's environment
            "answer": {"modelPath": settings.model_path or "", "endpoint": settings.endpoint or "",
                       "endpointModel": settings.endpoint_model if settings.endpoint else ""},
            "backend": backend, "egress": egress, "configPath": str(config.config_path()),
            "modelsDir": str(config.models_dir()), "default": {"name": hub.DEFAULT, "repo": repo, "file": filename},
            "catalog": [{"name": k, "repo": r, "file": f} for k, (r, f) in hub.CATALOG.items()],
            "downloaded": hub.local_models(), "ollama": {"host": ollama.host(), "running": running, "models": models}}
