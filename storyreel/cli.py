"""The command line: ``storyreel make``, ``storyreel show``, ``storyreel backends``.

Heavy libraries (prefect, torch, moviepy) are imported only inside the commands that need them, so
``storyreel --help`` starts fast. Errors a user can fix print one line and exit 2; Ctrl-C exits 130
and says how to resume.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyreel.errors import StoryreelError

app = typer.Typer(
    name="storyreel",
    help="One prompt in, a short film out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

STAGES = ("plan", "images", "video", "audio", "film")


def _quiet_libraries(verbose: bool) -> None:
    """Keep other libraries' logs and bars off the terminal; our own display shows progress."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def _mute_prefect_console(verbose: bool) -> None:
    """Prefect logs task failures with tracebacks on its console handler; our errors are one line."""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.INFO if verbose else logging.CRITICAL)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def make(
    prompt: Annotated[
        str, typer.Argument(help="the story idea, e.g. 'A little dragon who is afraid of the dark'")
    ] = "",
    pages: Annotated[int | None, typer.Option("--pages", "-n", help="number of pages, 1-24 [default: 6]")] = None,
    style: Annotated[str | None, typer.Option(help="visual style, e.g. 'watercolor picture book'")] = None,
    seed: Annotated[int | None, typer.Option(help="base seed; the same seed makes the same film")] = None,
    profile: Annotated[str | None, typer.Option(help="auto, preview, tiny or gpu [default: auto]")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for run directories [default: runs]")] = None,
    until: Annotated[str, typer.Option(help="stop after: plan, images, video, audio or film")] = "film",
    sets: Annotated[list[str] | None, typer.Option("--set", help="override a setting: section.key=value")] = None,
    run: Annotated[Path | None, typer.Option("--run", help="resume this run directory; redo nothing done")] = None,
    image: Annotated[list[Path] | None, typer.Option("--image", help="reference image of a character")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show Prefect's logs")] = False,
) -> None:
    """Make a film from a prompt (or resume one with --run)."""
    if until not in STAGES:
        _fail(f"--until must be one of {', '.join(STAGES)}, got {until!r}")
    if run is None and not prompt.strip():
        _fail('the prompt is empty: say what the story is about, e.g. storyreel make "A fox who loves the moon"')
    if pages is not None and not 1 <= pages <= 24:
        _fail(f"--pages must be between 1 and 24, got {pages}")
    if run is not None and not (run / "config.json").is_file():
        _fail(f"{run} is not a storyreel run directory (no config.json)")
    # Check profile and settings before starting the (slow) Prefect server.
    from storyreel.config import load_config, parse_sets
    from storyreel.store import check_writable

    try:
        if run is None:
            config, _ = load_config(profile, sets)
            check_writable(out_dir or Path(config.run.out))
        else:
            parse_sets(sets or [])
    except StoryreelError as exc:
        _fail(str(exc))
    _quiet_libraries(verbose)

    from storyreel import progress
    from storyreel.flows.make_film import make_film

    _mute_prefect_console(verbose)

    reporter = progress.RichReporter()
    previous = progress.use(reporter)
    try:
        with reporter:
            result = make_film(
                prompt=prompt,
                pages=pages,
                style=style,
                seed=seed,
                profile=profile,
                settings=sets or [],
                out=str(out_dir) if out_dir else None,
                run=str(run) if run else None,
                until=until,
                images=[str(i) for i in image or []],
            )
    except StoryreelError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        where = f" with: storyreel make --run {run}" if run else " with storyreel make --run RUN_DIR (printed above)"
        err.print(f"\n[yellow]interrupted[/]: finished assets are kept; resume{where}")
        raise typer.Exit(130) from None
    finally:
        progress.use(previous)
    out.print(f"[bold]{result.title}[/]")
    if result.film:
        out.print(f"film: {result.film}")
    else:
        out.print(f"stopped after: {result.stage}")
    out.print(f"run directory: {result.run_dir}")
    out.print(
        f"made {result.made} asset(s), reused {result.reused}, in {result.seconds:.0f} s (profile {result.profile})"
    )


@app.command()
def show(run: Annotated[Path, typer.Argument(help="a run directory")]) -> None:
    """Show a run: the story, its assets, the film."""
    from storyreel.plan import StoryPlan
    from storyreel.store import RunDir

    plan_file = run / "plan.json"
    if not plan_file.is_file():
        _fail(f"{run} has no plan.json: not a storyreel run directory, or it stopped before the story was written")
    plan = StoryPlan.model_validate_json(plan_file.read_text(encoding="utf-8"))
    out.print(f"[bold]{plan.title}[/]  (plan v{plan.version}, {len(plan.pages)} pages, seed {plan.brief.seed})")
    for c in plan.characters:
        out.print(f"  [cyan]{c.name}[/]: {c.look}")
    for page in plan.pages:
        out.print(f"  {page.number:>2}. {page.text}")
    manifest = RunDir(run).manifest()
    kinds: dict[str, int] = {}
    for record in manifest.values():
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    out.print("assets: " + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none yet"))
    film = run / "film.mp4"
    out.print(f"film: {film}" if film.exists() else "film: not made yet (resume with storyreel make --run)")


@app.command()
def backends(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the backends: which are ready, which miss a package and how to install it."""
    from storyreel.registry import all_backends

    rows = []
    for b in all_backends():
        missing = b.missing()
        rows.append(
            {
                "kind": b.kind,
                "name": b.name,
                "ready": not missing,
                "missing": missing,
                "install": b.install,
                "summary": b.summary,
                "origin": b.origin,
            }
        )
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("kind", "name", "status", "what it is")
    for r in rows:
        status = "[green]ready[/]" if r["ready"] else f"[red]missing {', '.join(r['missing'])}[/]: {r['install']}"
        table.add_row(r["kind"], r["name"], status, r["summary"])
    out.print(table)


@app.command()
def prepare() -> None:
    """Prepare the bundled offline models (no download): the offline LLM's fast-loading copy."""
    _quiet_libraries(verbose=False)
    import time

    from storyreel.agents.llm import cache_dir, offline_model_dir

    started = time.perf_counter()
    with err.status("preparing the bundled offline LLM (Gemma 3 270M; about a minute the first time)"):
        try:
            path = offline_model_dir()
        except StoryreelError as exc:
            _fail(str(exc))
    out.print(f"offline LLM ready: {path} ({time.perf_counter() - started:.0f} s); cache: {cache_dir()}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("\n[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
