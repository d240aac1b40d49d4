"""`alpaca ask`: streamed, cited answers in the terminal (or --json)."""


import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from alpaca_index.answer.settings import AnswerSettings
from alpaca_index.console import DEFAULT_DB, DbOption, JsonOption, emit, fail, open_db, stdout
from alpaca_index.ingest.formats import place

# the answer options `ask` and `chat` share
ModelOption = Annotated[Path | None, typer.Option("--model", envvar="ALPACA_MODEL",
                                                     help="GGUF model file (e.g. Mistral 7B Instruct).")]
EndpointOption = Annotated[str | None, typer.Option("--endpoint", envvar="ALPACA_ENDPOINT",
                                                       help="OpenAI-compatible server URL.")]
EndpointModelOption = Annotated[str | None, typer.Option("--endpoint-model", envvar="ALPACA_ENDPOINT_MODEL",
                                                            help="Model name sent to the endpoint.")]
AllowRemoteOption = Annotated[bool, typer.Option("--allow-remote", envvar="ALPACA_ALLOW_REMOTE",
                                                 help="Allow a non-loopback endpoint (documents leave this machine).")]
KOption = Annotated[int, typer.Option("--k", "-k", min=1, max=20, help="Passages given to the model.")]
NCtxOption = Annotated[int, typer.Option("--n-ctx", min=512, help="Model context size.")]



def register(app: typer.Typer) -> None:

    @app.command()
    def ask(question: Annotated[str, typer.Argument(help="The question; '-' reads one question per line from "
                                                     "stdin, answered in turn with the model loaded once.")],
            db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
            model: ModelOption = None, endpoint: EndpointOption = None, endpoint_model: EndpointModelOption = None,
            allow_remote: AllowRemoteOption = False, k: KOption = AnswerSettings.k, n_ctx: NCtxOption = 4096):
        """Answer a question from the docs, citing numbered sources; each claim is checked against its source."""
        from alpaca_index.answer import AnswerSettings, answer

        questions = [q.strip() for q in sys.stdin.read().splitlines() if q.strip()] if question == "-" \
            else [question.strip()]
        if not all(questions) or not questions:
            fail("the question is empty")
        settings = AnswerSettings.from_env(model_path=str(model) if model else None, endpoint=endpoint,
                                           endpoint_model=endpoint_model, allow_remote=allow_remote or None,
                                           k=k, n_ctx=n_ctx)
        index = open_db(db)
        streaming = not as_json

        def on_text(piece: str) -> None:
            sys.stdout.write(piece)
            sys.stdout.flush()

        results = []
        for n, q in enumerate(questions):
            if streaming and len(questions) > 1:
                stdout.print(f"{'' if n == 0 else chr(10)}[bold]## {q}[/]", highlight=False)
            # the model stays loaded between questions (LlamaCpp keeps one resident model per process)
            results.append(answer(index, q, settings, on_text=on_text if streaming else None,
                                  on_sources=_show_best_passage if streaming else None))
            if streaming:
                _print_result(results[-1])
        if as_json:
            emit(True, results[0].to_dict() if question != "-" else [r.to_dict() for r in results], None)

    register_chat(app)


def _show_best_passage(preview: dict) -> None:
    """The first useful output, before the model has read anything: where the answer will come from."""
    from rich.console import Console

    stderr = Console(stderr=True, soft_wrap=True)  # stdout stays the answer alone
    best = preview.get("best_passage")
    if best:
        stderr.print(f"[dim]best passage — {best['heading_path']} ({_where(best)}):[/] {best['quote']}",
                     highlight=False)


def _print_result(result) -> None:
    sys.stdout.write("\n")
    _print_grounding(result)
    if result.notice:
        stdout.print(f"[yellow]note:[/] {result.notice}", highlight=False)
    if result.sources:
        stdout.print("\n[bold]Sources[/]")
    for s in result.sources:
        stdout.print(f"  [{s['n']}] {s['heading_path']} — {_where(s)} "
                     f"({place(s['path'], s['start_line'], s['end_line'])}, updated {_date(s['mtime'])})",
                     highlight=False, markup=False)
    if result.related:
        stdout.print("[bold]Related reading[/]")
    for r in result.related:
        stdout.print(f"  - {r['heading_path']} — {_where(r)}", highlight=False, markup=False)
    t = result.timings
    extra = f" · first token {t['first_token_ms']:.0f} ms" if "first_token_ms" in t else ""
    extra += f" · {t['tokens_per_s']:.1f} tokens/s" if "tokens_per_s" in t else ""
    stdout.print(f"[dim]{result.backend} · retrieval {t['retrieval_ms']:.0f} ms{extra} · "
                 f"total {t['total_ms']:.0f} ms[/]", highlight=False)


def _print_grounding(result) -> None:
    g = result.grounding
    if result.withheld:  # nothing of the draft was shown; say plainly this is no answer
        stdout.print(f"[bold red]✗ not an answer:[/] {escape(result.answer)}", highlight=False)
    if not g or not g["claims"]:
        return
    held = [c for c in g["claims"] if c.get("shown") is False]
    ok = not held and g["supported"] == len(g["claims"]) and not g.get("cautions")
    stdout.print(f"[{'green' if ok else 'yellow'}]{'✓' if ok else '!'} check: {g['verdict']}[/]", highlight=False)
    if result.withheld:
        return
    for claim in g["claims"]:
        if claim.get("shown") is not False and claim.get("attributed") is not None:
            model = "".join(f"[{n}]" for n in claim["cites"]) or "none"
            stdout.print(f"  [cyan]+[/] {escape(claim['text'][:160])} [dim]— \\[{claim['attributed']}] cited by the "
                         f"check (the model cited {escape(model)})[/]", highlight=False)
    if held:
        stdout.print(f"[dim]held back from the answer ({len(held)}):[/]", highlight=False)
    for claim in held:
        why = (f"the model judged its passage doesn't state it (odds {claim['judged']:.2f})"
               if claim.get("judged") is not None and claim["status"] == "unsupported" else
               f"not in {', '.join(f'[{n}]' for n in claim['cites'])}" if claim["status"] == "unsupported" else
               "no citation" if claim["status"] == "uncited" else "with the sentence around it")
        if claim["missing"]:
            why += f" (missing: {', '.join(claim['missing'][:4])})"
        stdout.print(f"  [yellow]✗[/] {escape(claim['text'][:160])} [dim]— {why}[/]", highlight=False)


def register_chat(app: typer.Typer) -> None:

    @app.command()
    def chat(db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
             model: ModelOption = None, endpoint: EndpointOption = None, endpoint_model: EndpointModelOption = None,
             allow_remote: AllowRemoteOption = False, k: KOption = AnswerSettings.k, n_ctx: NCtxOption = 4096):
        """A conversation: questions are read line by line from stdin and follow-ups keep their context
        ("/new" starts over). The model stays loaded between questions. --json: one object per turn."""
        from alpaca_index.answer import AnswerSettings, BackendError, answer, make_backend
        from alpaca_index.answer.conversation import Turn

        settings = AnswerSettings.from_env(model_path=str(model) if model else None, endpoint=endpoint,
                                           endpoint_model=endpoint_model, allow_remote=allow_remote or None,
                                           k=k, n_ctx=n_ctx)
        index = open_db(db)
        try:
            backend = make_backend(settings)  # one instance for the whole session
        except BackendError as exc:
            backend = None
            print(f"note: {exc} — answering from the passages.", file=sys.stderr)
        history: list[Turn] = []
        interactive = sys.stdin.isatty() and not as_json
        while True:
            if interactive:
                print("? ", end="", file=sys.stderr, flush=True)
            line = sys.stdin.readline()
            if not line:
                break
            question = line.strip()
            if question in ("/new", "/reset"):
                history.clear()
                if not as_json:
                    stdout.print("[dim]New conversation.[/]")
                continue
            if question in ("/quit", "/exit"):
                break
            if not question:
                continue
            result = answer(index, question, settings, backend=backend, history=history,
                            on_text=None if as_json else _write)
            history.append(Turn(result.question, result.answer, result.query))
            if as_json:
                sys.stdout.write(json.dumps({"turn": len(history), **result.to_dict()}, ensure_ascii=False,
                                            default=str) + "\n")
                sys.stdout.flush()
                continue
            sys.stdout.write("\n")
            _print_grounding(result)
            if result.query:
                stdout.print(f"[dim]searched for: {result.query} ({result.rewritten_by})[/]", highlight=False)
            for s in result.sources:
                stdout.print(f"  [{s['n']}] {s['heading_path']} — {_where(s)}", highlight=False, markup=False)
            stdout.print("")


def _write(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def _where(entry: dict) -> str:
    return f"{entry['path']}:{entry['start_line']}" + (f"#{entry['anchor']}" if entry.get("anchor") else "")


def _date(mtime: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(mtime)) if mtime else "?"
