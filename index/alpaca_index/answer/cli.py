"""`alpaca ask`: streamed, cited answers in the terminal (or --json)."""


import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    from alpaca_index.cli import DEFAULT_DB, DbOption, JsonOption, emit, fail, open_index, stdout

    @app.command()
    def ask(question: str, db: DbOption = DEFAULT_DB, as_json: JsonOption = False,
            model: Annotated[Optional[Path], typer.Option("--model", envvar="ALPACA_MODEL",
                                                         help="GGUF model file (e.g. Mistral 7B Instruct).")] = None,
            endpoint: Annotated[Optional[str], typer.Option("--endpoint", envvar="ALPACA_ENDPOINT",
                                                            help="OpenAI-compatible server URL.")] = None,
            endpoint_model: Annotated[Optional[str], typer.Option("--endpoint-model", envvar="ALPACA_ENDPOINT_MODEL",
                                                                  help="Model name sent to the endpoint.")] = None,
            allow_remote: Annotated[bool, typer.Option("--allow-remote", envvar="ALPACA_ALLOW_REMOTE",
                                                       help="Allow a non-loopback endpoint (documents leave "
                                                            "this machine).")] = False,
            k: Annotated[int, typer.Option("--k", "-k", min=1, max=20, help="Passages given to the model.")] = 8,
            n_ctx: Annotated[int, typer.Option("--n-ctx", min=512, help="Model context size.")] = 4096):
        """Answer a question from the docs, citing numbered sources."""
        from alpaca_index.answer import AnswerSettings, answer

        if not question.strip():
            fail("the question is empty")
        settings = AnswerSettings.from_env(model_path=str(model) if model else None, endpoint=endpoint,
                                           endpoint_model=endpoint_model, allow_remote=allow_remote or None,
                                           k=k, n_ctx=n_ctx)
        index = open_index(db)
        streaming = not as_json

        def on_text(piece: str) -> None:
            sys.stdout.write(piece)
            sys.stdout.flush()

        result = answer(index, question, settings, on_text=on_text if streaming else None)
        if as_json:
            emit(True, result.to_dict(), None)
            return
        sys.stdout.write("\n")
        if result.notice:
            stdout.print(f"[yellow]note:[/] {result.notice}", highlight=False)
        if result.sources:
            stdout.print("\n[bold]Sources[/]")
        for s in result.sources:
            stdout.print(f"  [{s['n']}] {s['heading_path']} — {_where(s)} "
                         f"(lines {s['start_line']}-{s['end_line']}, updated {_date(s['mtime'])})",
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


def _where(entry: dict) -> str:
    return f"{entry['path']}:{entry['start_line']}" + (f"#{entry['anchor']}" if entry.get("anchor") else "")


def _date(mtime: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(mtime)) if mtime else "?"
