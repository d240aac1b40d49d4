"""Adapting search to the docs from the editor: a thin adapter over `alpaca_index.embedding.tune`.

- `alpaca.tune {revert?, maxPairs?, budgetMinutes?, requestId?}` returns `{requestId}` at once. The
  work runs on the sync thread (`Engine.run_exclusive`): no sync pass touches the index while the
  tuner switches its model and vectors; saves made meanwhile are synced after it, with the new model.
  Progress streams as `alpaca/tuneProgress {requestId, kind: "progress", stage, done, total,
  message}` (stages: queued, prepare, train, embed, commit), then one `{requestId, kind: "final",
  report? | error? | cancelled?}`, sent once the index is reopened: search and `alpaca.status`
  (`model`, `model_info.tuned`) already use the new model.
- `alpaca.tuneCancel {requestId}` stops it before the switch: the index keeps its previous model and
  vectors, as after a killed `alpaca tune`.
Refused up front, with what to do: a shared (s3://) index (read-only here), another embedding model
than the packaged one (the tuner starts from the packaged MiniLM), a Python without the `tune` extra.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from importlib.util import find_spec
from typing import TYPE_CHECKING

from alpaca_index.team.residency import is_remote_uri
from alpaca_server.feature import Feature
from alpaca_server.params import arguments, guarded, invalid
from alpaca_server.running import Running

if TYPE_CHECKING:
    from alpaca_index.api import ReadableIndex
    from alpaca_index.embedding.tune import TuneReport, TuneSettings
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)

PROGRESS = "alpaca/tuneProgress"
OPEN_WAIT = 60.0  # seconds to wait for the index's first open before refusing
REPORT_INTERVAL = 0.25  # seconds between progress notifications within a stage
TRAINER = ("torch", "sentence_transformers")  # the `tune` extra: training only, not search
LABELS = {"train": "training step", "embed": "re-embedding chunks", "commit": "switching the index"}


class TuneFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.running = Running("tune")  # one run at a time

    def register(self) -> None:
        self.command("alpaca.tune", self.tune)
        self.command("alpaca.tuneCancel", self.running.cancel)

    def close(self) -> None:
        self.running.cancel_all()

    async def tune(self, *args):
        ls = self.server
        p = arguments(args)
        revert = bool(p.get("revert"))
        settings = None if revert else _settings(p)
        request_id = str(p.get("requestId") or uuid.uuid4().hex[:12])
        if self.running:
            raise invalid(f"search is already being adapted (requestId {next(iter(self.running))!r}); "
                          "wait for it or cancel it")
        flag = self.running.start(request_id)  # before any await: one run at a time
        try:
            await self._check_index(training=not revert)
        except BaseException:
            self.running.pop(request_id, None)
            raise
        self._notify(request_id, "queued", 0, 0, "waiting for the index to be idle")
        future = ls.engine.run_exclusive(lambda index: self._work(index, request_id, settings, flag))
        ls.run_task(self._finish(request_id, future), name=f"alpaca-tune-{request_id}")
        return {"requestId": request_id}

    async def _check_index(self, training: bool) -> None:
        """Refusals the user can act on, answered as errors before anything starts."""
        from alpaca_index.embedding import DEFAULT_MODEL

        ls = self.server
        config = ls.engine.config
        if config is None:
            raise invalid("the server is not initialized yet")
        missing = [name for name in TRAINER if find_spec(name) is None] if training else []
        if missing:
            raise invalid(f"the server's Python lacks {' and '.join(missing)}, which training needs: "
                          "install `alpaca-docs[tune]` into it, then restart the server")
        if config.embedding_model not in ("", DEFAULT_MODEL):
            raise invalid(f"the index uses the embedding model {config.embedding_model}; adapting starts "
                          "from the packaged model, so clear alpaca.embeddingModel first")
        shared = is_remote_uri(config.index_path)
        if shared or (await guarded(ls.run_wait(ls.engine.wait_open, OPEN_WAIT))).read_only:
            raise invalid(f"the index at {config.index_path} is shared and read-only here: search is adapted "
                          "on a local index (a shared one is tuned where it is written, with `alpaca tune`)")

    def _work(self, index: ReadableIndex, request_id: str, settings: TuneSettings | None,
              flag: threading.Event) -> TuneReport:
        """On the sync thread, with no pass running."""
        from alpaca_index.api import DocsIndex
        from alpaca_index.embedding import tune as tuning

        if not isinstance(index, DocsIndex) or index.read_only:  # reconfigured to a shared index meanwhile
            raise ValueError(f"the index at {index.db} is read-only here; search is adapted on a local index")
        last_stage, last_at = "", 0.0

        def progress(stage: str, done: int, total: int, current: str) -> None:
            nonlocal last_stage, last_at
            now = time.monotonic()
            if stage == last_stage and now - last_at < REPORT_INTERVAL and done < total:
                return  # a few updates a second; a stage's first and last always go out
            last_stage, last_at = stage, now
            label = LABELS.get(stage, stage)
            message = f"{label} {done}/{total}" + (f", {current}" if current else "")
            self._notify(request_id, stage, done, total, message)

        if settings is None:
            self._notify(request_id, "prepare", 0, 0, "going back to the packaged model")
            return tuning.revert(index.db, index.store, progress, flag.is_set)
        self._notify(request_id, "prepare", 0, 0, "collecting training pairs and loading the trainer")
        return tuning.tune(index.db, index.store, index.embedder, settings, progress, flag.is_set)

    async def _finish(self, request_id: str, future) -> None:
        from alpaca_index.embedding.tune import TuneCancelled

        final: dict
        try:
            report = await asyncio.wrap_future(future)
            final = {"report": report.to_dict()}
        except TuneCancelled:
            final = {"cancelled": True}
        except ValueError as exc:  # the tuner's own refusals: an empty index, too few sections
            final = {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the client is waiting for a final message either way
            log.exception("tune failed")
            final = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            self.running.pop(request_id, None)
        self.server.notify(PROGRESS, {"requestId": request_id, "kind": "final", **final})

    def _notify(self, request_id: str, stage: str, done: int, total: int, message: str) -> None:
        self.server.notify(PROGRESS, {"requestId": request_id, "kind": "progress", "stage": stage, "done": done,
                                      "total": total, "message": message})


def _settings(p: dict) -> TuneSettings:
    from alpaca_index.embedding.tune import TuneSettings

    max_pairs, budget = p.get("maxPairs"), p.get("budgetMinutes")
    if max_pairs is not None and (isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 2):
        raise invalid("maxPairs must be a whole number ≥ 2")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0):
        raise invalid("budgetMinutes must be a positive number of minutes")
    defaults = TuneSettings()
    return TuneSettings(max_pairs=max_pairs or defaults.max_pairs,
                        budget_seconds=budget * 60 if budget else None)
