"""`alpaca` command line: index, search, related, status, eval, tune (and ask, from the answer module)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from alpaca_index.answer.cli import register as register_answers
from alpaca_index.console import DEFAULT_DB, DbOption, JsonOption, UserError, db_status, emit, fail, open_db, stdout
from alpaca_index.ingest.formats import place, unit_of
from alpaca_index.models.cli import register as register_models
from alpaca_index.progress import stderr, sync_progress

__all__ = ["UserError", "app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Alpaca: a local documentation assistant. Nothing leaves this machine.")


def print_hits(hits) -> None:
    if not hits:
        stdout.print("[yellow]No matching documents.[/]")
    for n, hit in enumerate(hits, 1):
        stdout.print(f"[bold]{n}. {hit.heading_path}[/]  [dim]score {hit.score:.4f}[/]")
        by_line = unit_of(hit.path) == "line"
        where = f":{hit.start_line}-{hit.end_line}" if by_line else f" ({place(hit.path, hit.start_line, hit.end_line)})"
        stdout.print(f"   [cyan]{hit.path}{where}[/]#{hit.anchor}")
        stdout.print("   " + " ".join(hit.text.split())[:200], highlight=False, markup=False)


@app.command("index")
def index_cmd(roots: Annotated[list[Path], typer.Argument(help="Docs folders to index.")],
              db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
              ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Extra gitignore-style pattern.")] = None,
              quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
              rehash: Annotated[bool, typer.Option("--rehash", help="Read every file, even those whose size "
                                                   "and modification time are unchanged.")] = False):
    """Index (or incrementally re-index) docs folders."""
    from alpaca_index.embedding.tune import worth_tuning

    for root in roots:
        if not root.is_dir():
            fail(f"docs folder not found: {root}")
    idx = open_db(db, write=True)
    with sync_progress(enabled=not quiet and not as_json) as progress:
        report = idx.sync(roots, ignore=ignore, progress=progress, rehash=rehash)
    status = idx.status()
    suggest_tune = worth_tuning(status["chunks"], status.get("model_info"))

    def render() -> None:
        stdout.print(f"Indexed [bold]{status['files']}[/] files, {status['chunks']} chunks in {report.seconds:.1f}s "
                     f"(added {len(report.added)}, modified {len(report.modified)}, deleted {len(report.deleted)}, "
                     f"unchanged {report.unchanged}; encoded {report.chunks_encoded}, reused {report.chunks_reused})")
        if report.repaired:
            stdout.print(f"[yellow]Repaired {len(report.repaired)} half-written files from an interrupted run.[/]")
        if report.rebuilt:
            stdout.print("[yellow]The index was rebuilt (model changed or index unreadable).[/]")
        for skipped in report.skipped:
            stdout.print(f"[yellow]skipped[/] {skipped.path}: {skipped.reason}", highlight=False)
        if suggest_tune:
            stdout.print(f"Tip: `alpaca tune{'' if db == DEFAULT_DB else f' --db {db}'}` adapts search to these docs "
                         "(no labels, nothing leaves the machine; about 30 minutes on 2 cores for 16,000 chunks). On "
                         "questions we wrote and never tuned for it found the right page in the top 5 for 92 % "
                         "rather than 88 % (bench/RESULTS.md).", highlight=False)

    emit(as_json, {"report": report.to_dict(), "status": status, "suggest_tune": suggest_tune}, render)


@app.command()
def search(query: str, db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
           k: Annotated[int, typer.Option("--k", "-k", min=1, max=100)] = 5,
           files: Annotated[bool, typer.Option("--files/--chunks", help="Best chunk per file, or raw chunks.")] = True,
           path: Annotated[str | None, typer.Option("--path", help="Only paths starting with this.")] = None):
    """Hybrid (vector + full-text) search."""
    if not query.strip():
        fail("the query is empty")
    idx = open_db(db)
    started = time.perf_counter()
    hits = idx.search_files(query, k, path) if files else idx.search(query, k, path)
    elapsed = (time.perf_counter() - started) * 1000
    emit(as_json, {"query": query, "ms": round(elapsed, 1), "results": [h.to_wire() for h in hits]},
         lambda: print_hits(hits))


@app.command()
def related(file: Annotated[Path, typer.Argument(help="A doc (or any file) to find related docs for.")],
            db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
            k: Annotated[int, typer.Option("--k", "-k", min=1, max=50)] = 5):
    """Docs most related to a file (excluding itself)."""
    idx = open_db(db)
    try:
        hits = idx.related(path=str(file), k=k)
    except FileNotFoundError as exc:
        fail(str(exc))
    emit(as_json, {"file": str(file), "results": [h.to_wire() for h in hits]}, lambda: print_hits(hits))


@app.command()
def status(db: DbOption = DEFAULT_DB, as_json: JsonOption = False):
    """What is indexed, with which model, and when."""
    from alpaca_index.answer.settings import where_answers_go

    data = db_status(db)
    data.update(where_answers_go(data))  # what `alpaca ask` would use by default

    def render() -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["last_sync"])) if data["last_sync"] else "never"
        stdout.print(f"{data['files']} files, {data['chunks']} chunks, model {data['model']} ({data['dim']}d)"
                     + (f", adapted to these docs on {data['model_info'].get('created', '?')}"
                        if data.get("model_info", {}).get("tuned") else ""), highlight=False)
        stdout.print(f"index {data['db']}, last sync {when}, roots: {', '.join(data['roots']) or '-'}")
        if data.get("version") is not None:
            stdout.print(f"index version {data['version']}", highlight=False)
        if data.get("cache"):
            cache = data["cache"]
            stdout.print(f"local cache {cache['dir']}, confirmed {cache['age_seconds']:.0f}s ago"
                         + ("" if cache["online"] else f" [yellow](offline: {cache['error']})[/]"), highlight=False)
        stdout.print(f"answers: {data['backend']}; data leaving this machine: {data['egress']}", highlight=False)

    emit(as_json, data, render)


@app.command("eval")
def eval_cmd(questions: Annotated[Path, typer.Argument(help="JSONL with question and relevant paths.")],
             db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
             k: Annotated[int, typer.Option("--k", "-k", min=1, max=50)] = 5):
    """File-level hit@k, recall@k and MRR@10 of the index on a questions file."""
    from alpaca_index.retrieval.evaluation import load_questions, score

    if not questions.is_file():
        fail(f"questions file not found: {questions}")
    try:
        qs = load_questions(questions)
    except ValueError as exc:
        fail(str(exc))
    idx = open_db(db)
    result = score(qs, lambda q: [h.path for h in idx.search_files(q, max(k, 10))], k=k)

    def render() -> None:
        for q in result["per_question"]:
            mark = "[green]✓[/]" if q["hit"] else "[red]✗[/]"
            stdout.print(f"{mark} {q['id']} rr={q['rr']:.2f} {q['question'][:70]}", highlight=False)
        stdout.print(f"[bold]hit@{k} {result[f'hit@{k}']:.3f}  recall@{k} {result[f'recall@{k}']:.3f}  "
                     f"MRR@10 {result['mrr@10']:.3f}[/]  ({result['questions']} questions)")

    emit(as_json, result, render)


@app.command()
def tune(db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
         revert: Annotated[bool, typer.Option("--revert", help="Go back to the packaged model.")] = False,
         max_pairs: Annotated[int, typer.Option("--max-pairs", min=2, help="Training pairs taken from the docs.")] = 8000,
         budget: Annotated[float | None, typer.Option("--budget", min=0.1,
                                                         help="Stop training after this many minutes.")] = None,
         epochs: Annotated[int, typer.Option("--epochs", min=1, max=20)] = 1,
         device: Annotated[str | None, typer.Option("--device", help="cpu or cuda (default: cuda if present).")] = None,
         quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False):
    """Adapt the search model to these docs (no labels, nothing leaves the machine), or --revert."""
    from alpaca_index.api import DocsIndex
    from alpaca_index.embedding import tune as tuning

    if "://" in str(db):
        fail("tune adapts a local index; a shared index is tuned where it is written")
    idx = open_db(db)
    assert isinstance(idx, DocsIndex)  # a local index (a shared one was refused above)
    with sync_progress(enabled=not quiet and not as_json) as progress:
        try:
            if revert:
                report = tuning.revert(idx.db, idx.store, progress)
            else:
                settings = tuning.TuneSettings(max_pairs=max_pairs, epochs=epochs, device=device,
                                               budget_seconds=budget * 60 if budget else None)
                report = tuning.tune(idx.db, idx.store, idx.embedder, settings, progress)
        except ValueError as exc:
            fail(str(exc))
    data = {"report": report.to_dict(), "status": open_db(db).status()}

    def render() -> None:
        if revert:
            stdout.print(f"Search uses the packaged model again ({report.chunks} chunks, "
                         f"{report.reused_vectors} kept vectors reused).")
            return
        stdout.print(f"Tuned [bold]{report.model}[/] on {report.pairs} pairs: {report.steps}/{report.planned_steps} "
                     f"steps in {report.train_seconds:.0f}s on {report.device}"
                     + (" (stopped at the budget)" if report.stopped_early else "")
                     + f"; {report.chunks} chunks re-embedded in {report.embed_seconds:.0f}s. "
                     f"`alpaca tune --revert` goes back.", highlight=False)

    emit(as_json, data, render)


@app.callback()
def _global_options(allow_region: Annotated[str | None, typer.Option(
        "--allow-region", envvar="ALPACA_ALLOW_REGION",
        help="Allow this non-US region for a shared index or model endpoint (data residency override).")] = None):
    if allow_region:
        os.environ["ALPACA_ALLOW_REGION"] = allow_region


@app.command("sync-cache")
def sync_cache_cmd(db: DbOption = DEFAULT_DB, as_json: JsonOption = False):
    """Refresh the local read cache of a shared (s3://) index now."""
    from alpaca_index.storage.store import IndexCorrupt
    from alpaca_index.team.residency import ResidencyError, storage_options_for
    from alpaca_index.team.shared_cache import SharedIndexError, cache_root, sync_cache

    if "://" not in str(db):
        fail(f"{db} is a local index; sync-cache mirrors a shared one (--db s3://bucket/prefix)")
    try:
        options = storage_options_for(db)
        state = sync_cache(db, options)
    except (ResidencyError, SharedIndexError, IndexCorrupt) as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - anything from the object store: one line for the user
        fail(f"cannot reach shared index {db}: {' '.join(str(exc).split())[:240]}")
    state["cache_dir"] = str(cache_root(db, options))
    emit(as_json, state, lambda: stdout.print(
        f"cache of {db} at version {state['source']['chunks']} in {state['cache_dir']} "
        f"({state['mirror_seconds']:.1f}s)", highlight=False))


@app.command("mcp")
def mcp_cmd(db: DbOption = DEFAULT_DB,
            docs_root: Annotated[str | None, typer.Option("--docs-root", envvar="ALPACA_DOCS_ROOT",
                                                             help="Local checkout of the docs, for links into a shared index.")] = None):
    """Serve the index to coding agents over the Model Context Protocol (stdio)."""
    try:
        from alpaca_index.mcp_server import serve
    except ImportError as exc:
        fail(f"the MCP server needs the `mcp` package ({exc}); pip install 'mcp>=1'")
    serve(db, docs_root=docs_root)


register_answers(app)
register_models(app)


def main() -> None:
    try:
        app()
    except UserError as exc:
        stderr.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: one line, details only with ALPACA_DEBUG
        if os.environ.get("ALPACA_DEBUG"):
            raise
        stderr.print(f"[red]error:[/] {type(exc).__name__}: {exc}  (set ALPACA_DEBUG=1 for details)", highlight=False,
                     soft_wrap=True)
        sys.exit(1)
