"""`alpaca model pull | list | use`: get an answer model and remember which one answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from alpaca_index.console import JsonOption, emit, fail, stdout

model_app = typer.Typer(no_args_is_help=True, help="Get an answer model (GGUF from the hub, or Ollama) and choose it.")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


@model_app.command("pull")
def pull_cmd(spec: Annotated[list[str] | None, typer.Argument(
                 help="NAME (mistral-7b-instruct, the default; qwen2.5-1.5b-instruct) or REPO FILE on the hub.")] = None,
             ollama_model: Annotated[str | None, typer.Option("--ollama", help="Pull this model into the local "
                                                                 "Ollama instead (e.g. mistral).")] = None,
             revision: Annotated[str, typer.Option("--revision", help="Hub revision (branch, tag or commit).")] = "main",
             use: Annotated[bool, typer.Option("--use/--no-use", help="Answer with it from now on.")] = True,
             as_json: JsonOption = False):
    """Download a model (resumable, checksum verified) into the per-user cache and answer with it."""
    from alpaca_index.models import config, hub, ollama
    from alpaca_index.progress import stderr

    if ollama_model:
        name = _ollama_pull(ollama_model)
        result = {"backend": "ollama", "model": name, "endpoint": ollama.endpoint()}
        if use:
            result["config"] = str(config.use(endpoint=ollama.endpoint(), endpoint_model=name))
        emit(as_json, result, lambda: stdout.print(f"Ollama has {name}" + (
            "; answers use it now" if use else ""), highlight=False))
        return
    try:
        repo, filename = hub.resolve(spec or [])
    except hub.ModelError as exc:
        fail(str(exc))
    try:
        remote = hub.remote(repo, filename, revision)
        stderr.print(f"{repo}/{filename}: {hub.human(remote.size)} → {remote.target}", highlight=False, soft_wrap=True)
        path = _download(remote)
    except hub.ModelError as exc:
        raise SystemExit(_error(str(exc))) from None
    result = {**remote.to_dict(), "backend": "llama.cpp"}
    if use:
        result["config"] = str(config.use(model_path=str(path)))
    emit(as_json, result, lambda: stdout.print(f"{path}" + ("\nanswers use it now" if use else ""), highlight=False))


def _error(message: str) -> int:
    from alpaca_index.progress import stderr

    stderr.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return 1


def _download(remote) -> Path:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from alpaca_index.models import hub
    from alpaca_index.progress import stderr

    bar = Progress(TextColumn("[bold]download"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn(), console=stderr)
    with bar:
        task = bar.add_task("download", total=remote.size)
        path = hub.pull(remote, on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    return path


def _ollama_pull(name: str) -> str:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from alpaca_index.models import hub, ollama
    from alpaca_index.progress import stderr

    bar = Progress(TextColumn("[bold]{task.description:<24}"), BarColumn(), DownloadColumn(), console=stderr)
    with bar:
        task = bar.add_task("ollama pull", total=None)

        def report(status: str, done: int, total: int | None) -> None:
            bar.update(task, description=status[:24], completed=done, total=total)
        try:
            return ollama.pull(name, on_progress=report)
        except hub.ModelError as exc:
            raise SystemExit(_error(str(exc))) from None


@model_app.command("list")
def list_cmd(as_json: JsonOption = False):
    """Downloaded models, the local Ollama's models, and the one answers use."""
    from alpaca_index.answer import AnswerSettings, destination
    from alpaca_index.models import config, hub, ollama

    current = config.answer_model()
    downloaded = hub.local_models()
    backend, egress = destination(AnswerSettings.from_env())
    found: dict[str, Any] | None = None  # the local Ollama: its models, or why it did not list them
    if ollama.detect():
        try:
            found = {"host": ollama.host(), "models": ollama.models()}
        except hub.ModelError as exc:
            found = {"host": ollama.host(), "error": str(exc)}
    data = {"current": current, "config": str(config.config_path()), "models_dir": str(config.models_dir()),
            "downloaded": downloaded, "catalog": {k: {"repo": r, "file": f} for k, (r, f) in hub.CATALOG.items()},
            "ollama": found, "backend": backend, "egress": egress}

    def render() -> None:
        what = current.get("model_path") or (f"{current.get('endpoint_model', '')} at {current['endpoint']}"
                                             if current.get("endpoint") else "none (answers quote passages)")
        stdout.print(f"[bold]answers use:[/] {what}  [dim]({data['config']})[/]", highlight=False)
        stdout.print(f"[bold]downloaded[/] in {data['models_dir']}:", highlight=False)
        for m in downloaded:
            state = "" if m["complete"] else " [yellow](partial: `alpaca model pull` resumes it)[/]"
            stdout.print(f"  {m['name']}  {hub.human(m['size'])}  {m['path']}{state}", highlight=False)
        if not downloaded:
            stdout.print("  none — `alpaca model pull` gets Mistral 7B Instruct (4.37 GB)")
        if found:
            stdout.print(f"[bold]Ollama[/] at {found['host']}:", highlight=False)
            for m in found.get("models", []):
                stdout.print(f"  {m['name']}  {hub.human(m['size'])}", highlight=False)
            if found.get("error"):
                stdout.print(f"  [yellow]{found['error']}[/]", highlight=False)

    emit(as_json, data, render)


@model_app.command("use")
def use_cmd(target: Annotated[str | None, typer.Argument(
                help="A .gguf file, or a downloaded model's name (see `alpaca model list`).")] = None,
            ollama_model: Annotated[str | None, typer.Option("--ollama", help="A model of the local Ollama.")] = None,
            endpoint: Annotated[str | None, typer.Option("--endpoint", help="An OpenAI-compatible server URL.")] = None,
            endpoint_model: Annotated[str | None, typer.Option("--endpoint-model", help="Model name for --endpoint.")] = None,
            ctx: Annotated[int | None, typer.Option("--ctx", min=512, help="The model's context size (tokens).")] = None,
            none: Annotated[bool, typer.Option("--none", help="Forget the model: answers quote passages.")] = False,
            as_json: JsonOption = False):
    """Answer with this model from now on (remembered in the user config file)."""
    from alpaca_index.models import config, hub, ollama

    chosen = [x for x in (target, ollama_model, endpoint) if x] + ([True] if none else [])
    if len(chosen) != 1:
        fail("choose one: a .gguf file or model name, --ollama MODEL, --endpoint URL, or --none")
    try:
        if none:
            path = config.forget()
        elif ollama_model:
            if ollama_model not in {m["name"] for m in ollama.models()} and \
                    f"{ollama_model}:latest" not in {m["name"] for m in ollama.models()}:
                fail(f"Ollama at {ollama.host()} has no model {ollama_model!r}; "
                     f"`alpaca model pull --ollama {ollama_model}` gets it")
            path = config.use(endpoint=ollama.endpoint(), endpoint_model=ollama_model, endpoint_ctx=ctx)
        elif endpoint:
            if not endpoint.startswith(("http://", "https://")):
                fail(f"--endpoint must be an http(s) URL, got {endpoint!r}")
            path = config.use(endpoint=endpoint, endpoint_model=endpoint_model or "mistral", endpoint_ctx=ctx)
        else:
            assert target is not None  # exactly one choice was made, and it was none of the others
            path = config.use(model_path=str(_gguf(target)), n_ctx=ctx)
    except (hub.ModelError, config.ConfigError) as exc:
        fail(str(exc))
    answer = config.answer_model()
    emit(as_json, {"answer": answer, "config": str(path)},
         lambda: stdout.print(f"answers use {_describe(answer)} (saved in {path})", highlight=False))


def _gguf(target: str) -> Path:
    from alpaca_index.models import hub

    if target in hub.CATALOG:
        repo, filename = hub.CATALOG[target]
        for m in hub.local_models():
            if m["complete"] and m["name"] == filename and m["repo"] == repo:
                return Path(m["path"])
        raise hub.ModelError(f"{target} is not downloaded yet: `alpaca model pull {target}`")
    return hub.check_gguf(Path(target))


def _describe(answer: dict) -> str:
    if answer.get("endpoint"):
        return f"{answer.get('endpoint_model', '')} at {answer['endpoint']}"
    return answer.get("model_path") or "no model (passages quoted)"
