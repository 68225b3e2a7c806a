"""The command line: ``storyreel make``, ``show``, ``book``, ``revise``, ``history``, ``config``, ``backends`` and more.

Heavy libraries (prefect, torch, moviepy) are imported only inside the commands that need them, so
``storyreel --help`` starts fast. Errors a user can fix print one line and exit 2; Ctrl-C exits 130
and says how to resume.

For scripts: results go to stdout, progress and errors to stderr. ``--json`` (``make``, ``show``,
``history``, ``backends``, ``config``) prints one JSON object whose keys are listed in ``JSON_KEYS`` below.
Exit codes (``EXIT_CODES``): 0 done, 1 an unexpected failure (one line; the traceback in a log file: a bug to
report), 2 an input, setting or machine problem a user can fix (one line saying what), 130 interrupted
(finished assets are kept), 143 / 129 stopped by SIGTERM / SIGHUP. ``main`` is the console entry point: it
handles the signals and the errors no command caught (``storyreel.faults``) and stops Prefect's temporary
server once its logs are sent (``storyreel.prefect_server``).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storyreel.errors import StoryreelError

app = typer.Typer(
    name="storyreel",
    help="One prompt in, a short film out.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_CODES = {
    0: "done",
    1: "an unexpected failure: one line, and the traceback in the log file it names (please report it)",
    2: "an input, setting or machine problem you can fix: one line on stderr says what",
    130: "interrupted (Ctrl-C): finished assets are kept; resume with storyreel make --run RUN_DIR",
    129: "stopped by SIGHUP: as for 130",
    143: "stopped by SIGTERM: as for 130",
}

# The keys of each --json object, stable across releases (new keys may be added, none renamed or removed).
JSON_KEYS = {
    "make": {
        "title": "the story's title",
        "film": "path of film.mp4, or null when stopped early (--until)",
        "stage": "the last stage done: plan, images, video, audio or film",
        "run_dir": "the run directory",
        "made": "assets made by this command",
        "reused": "assets reused from earlier runs",
        "seconds": "wall time of the command, Prefect's start included",
        "profile": "the profile the film was made with",
        "flow_run": "the Prefect flow run's name (the run folder's)",
        "url": "the flow run in the Prefect UI, or null on Prefect's temporary server",
    },
    "show": {
        "run_dir": "the run directory",
        "title": "the story's title",
        "version": "the plan's version",
        "seed": "the base seed",
        "characters": "[{name, look}]",
        "pages": "[{number, text}]",
        "assets": "{kind: count} of the assets in the manifest",
        "film": "path of film.mp4, or null when not made yet",
        "book": "{epub, html}: paths of book.epub and book/index.html, each null when not made yet",
    },
    "book": {"epub": "path of book.epub", "html": "path of book/index.html", "pages": "pages in the book"},
    "history": {
        "run_dir": "the run directory",
        "current": "the current plan version",
        "versions": "[{version, action (make|revise), request, date, based_on, film, changes}]",
        "reverts": "[{date, version, rebuilt}]",
    },
    "backends": {
        "backends": "[{kind, name, ready, installed, missing, install, model, weights, device, advice, summary, "
        "origin}]: ready = installed, the default model's weights here (or downloadable now) and its device usable"
    },
    "config": {
        "profile": "the profile picked",
        "settings": "[{key, value, source}]: source is default, profile <name>, a storyreel.toml path, "
        "env STORYREEL_<SECTION>__<KEY> or --set",
    },
}
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

STAGES = ("plan", "images", "video", "audio", "film")

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout instead of text")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="show Prefect's logs")]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        help="auto, preview, sketch, tiny or gpu", show_default="$STORYREEL_PROFILE or auto", metavar="PROFILE"
    ),
]
SetsOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a setting (repeatable), e.g. video.fps=30", metavar="SECTION.KEY=VALUE"),
]
OutOpt = Annotated[  # text, not a Path: Typer turns "" into "." and --out "" must be refused, not mean here
    str | None, typer.Option("--out", help="folder for run directories", show_default="run.out: runs", metavar="DIR")
]


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


def _clean_type_names() -> None:
    """Help shows types as TEXT, INTEGER, PATH (``KEY=VALUE`` where an option names its metavar) and nothing for
    flags, instead of Typer's ``<str>``, ``<bool>``, ``<list[str]>``."""
    from typer.core import TyperArgument, TyperOption

    def display(param: Any, ctx: Any) -> str | None:
        if getattr(param, "is_flag", False):
            return None
        if param.metavar:
            return param.metavar
        label = param.display_type(ctx).strip("<>")
        repeated = label.startswith("list[")
        label = label.removeprefix("list[").removesuffix("]")
        names = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "bool": "BOOLEAN"}
        label = names.get(label.lower(), label.upper())
        return f"{label} …" if repeated else label

    TyperOption.display_type_rich = display  # type: ignore[method-assign]
    TyperArgument.display_type_rich = display  # type: ignore[method-assign]


_clean_type_names()
_started = time.perf_counter()  # when this command started (reset per invocation by the app callback)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"storyreel {version('storyreel')}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="print the version and exit"),
    ] = None,
) -> None:
    """One prompt in, a short film out."""
    global _started, _stop_said
    from storyreel import faults

    _started = time.perf_counter()
    _stop_said = False  # per invocation: a test runs many in one process
    faults.working_on(None)


def _seconds() -> float:
    """The wall time of this command so far."""
    return round(time.perf_counter() - _started, 1)


def _print_json(data: Any) -> None:
    """One JSON object on stdout, nothing else (no markup, no wrapping)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _reporter() -> Any:
    """Live bars on a terminal; plain timestamped lines when stderr is a file or a pipe."""
    from storyreel import progress

    return progress.RichReporter() if err.is_terminal else progress.PlainReporter()


def _launch_prefect(verbose: bool) -> None:
    """Start Prefect's temporary server in the background now, before Prefect and the models are imported
    (it takes 8-15 s of its own, beside theirs), unless a server is named; ``_start_prefect`` waits for it.
    Read Prefect's settings (a profile may name a server: then the launched one is stopped at once)."""
    from storyreel import prefect_server

    _quiet_libraries(verbose)  # the server inherits the environment: analytics off, quiet logs
    if prefect_server.launch() is not None:
        prefect_server.use_launched(_setting_url())


def _start_prefect() -> None:
    """Say which Prefect server the run uses; wait for the temporary one launched beside the imports, or
    start Prefect's own now (8-15 s), with a line before and after, rather than silently inside the first
    flow call."""
    from storyreel import prefect_server, progress

    if (launched := prefect_server.launched()) is not None:
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as setting

        progress.note("Prefect: a temporary local server, started beside the imports (no PREFECT_API_URL set)…")
        seconds = launched.wait(prefect_server.startup_timeout(setting.value()))
        progress.note(f"Prefect: ready in {seconds:.1f} s")
        return
    url = os.environ.get("PREFECT_API_URL") or _setting_url()
    if url:
        progress.note(f"Prefect: using the server at {url}")
        return
    from prefect.server.api.server import SubprocessASGIServer

    from storyreel import prefect_server

    prefect_server.install()  # its own session: a Ctrl-C in the terminal reaches storyreel, not the server
    started = time.perf_counter()
    progress.note("Prefect: starting a temporary local server (no PREFECT_API_URL set)…")
    SubprocessASGIServer().start()  # a ServerStartError (one line) when it does not answer in time
    progress.note(f"Prefect: ready in {time.perf_counter() - started:.1f} s")


def _setting_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or ""


def _drain_prefect_logs() -> None:
    """Send the flow's queued log lines to the server before this process (and a temporary server) ends,
    so that Prefect's log worker never prints a connection traceback after a finished film."""
    try:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
    except Exception:  # noqa: BLE001 - logs that cannot be sent must not turn a finished film into a failure
        pass


def _out_folder(value: str | None) -> Path | None:
    """The ``--out`` folder; an empty one is refused (it would mean the working folder)."""
    if value is not None and not value.strip():
        _fail("--out is empty: name a folder for the run directories, e.g. --out runs (or leave --out out)")
    return Path(value).expanduser() if value else None


def _sound_run(run: Path, plan: bool = True) -> None:
    """Refuse, with one line, a run directory that is not sound: symlinked folders or state files, a damaged
    plan.json, config.json, manifest.json or history.json (``plan``: the run must have a plan)."""
    from storyreel.config import saved_config
    from storyreel.store import RunDir, check_run
    from storyreel.versions import current_plan, load_history

    try:
        check_run(run)
        if plan or (run / "plan.json").exists() or (run / "plan.json").is_symlink():
            current_plan(run)
        saved_config(run)
        RunDir(run).manifest()
        load_history(run)
    except StoryreelError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # "storyreel[dask]" is not markup
    raise typer.Exit(code)


@app.command()
def make(
    prompt: Annotated[
        str, typer.Argument(help="the story idea, e.g. 'A little dragon who is afraid of the dark'")
    ] = "",
    pages: Annotated[
        int | None, typer.Option("--pages", "-n", help="number of pages, 1-24", show_default="story.pages: 6")
    ] = None,
    style: Annotated[
        str | None, typer.Option(help="visual style, e.g. 'watercolor picture book'", show_default="story.style")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="base seed; the same seed makes the same film", show_default="story.seed: 0")
    ] = None,
    profile: ProfileOpt = None,
    out_dir: OutOpt = None,
    until: Annotated[str, typer.Option(help="stop after this stage", metavar="plan|images|video|audio|film")] = "film",
    sets: SetsOpt = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="resume this run directory; redo nothing done", metavar="RUN_DIR")
    ] = None,
    image: Annotated[
        list[Path] | None, typer.Option("--image", help="reference image of a character (repeatable)", metavar="FILE")
    ] = None,
    page_image: Annotated[
        list[str] | None,
        typer.Option("--page-image", help="your own picture for a page, animated (repeatable)", metavar="N=FILE"),
    ] = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Make a film from a prompt (or resume one with --run)."""
    from storyreel import limits

    out_dir = _out_folder(out_dir)  # type: ignore[assignment]
    if until not in STAGES:
        _fail(f"--until must be one of {', '.join(STAGES)}, got {limits.shown(until)!r}")
    if run is not None:
        given = [
            name
            for name, value in (
                ("a prompt", prompt.strip()),
                ("--pages", pages),
                ("--style", style),
                ("--seed", seed),
                ("--image", image),
            )
            if value
        ]
        if given:
            _fail(
                f"--run resumes a run with the story it was made with: leave out {' and '.join(given)} "
                f'(to change the story: storyreel revise {run} "..."; for a new film: drop --run)'
            )
    try:
        limits.check_text(prompt, "the prompt", limits.MAX_PROMPT)
        if style is not None:
            limits.check_text(style, "--style", limits.MAX_STYLE)
        if seed is not None:
            limits.check_seed(seed)
    except StoryreelError as exc:
        _fail(str(exc))
    if run is None and not prompt.strip():
        _fail('the prompt is empty: say what the story is about, e.g. storyreel make "A fox who loves the moon"')
    if pages is not None and not 1 <= pages <= 24:
        _fail(f"--pages must be between 1 and 24, got {pages}")
    if run is not None and not (run / "config.json").is_file():
        _fail(f"{run} is not a storyreel run directory (no config.json)")
    if run is not None and not page_image:
        _sound_run(run, plan=False)
    # Check profile and settings before starting the (slow) Prefect server.
    from storyreel.config import load_config, parse_sets
    from storyreel.page_images import check_page_images, parse_page_images
    from storyreel.store import check_writable

    try:
        if run is not None and page_image:
            _fail("--page-image is for a new film: a resumed run (--run) keeps the pictures it was made with")
        page_images = parse_page_images(page_image or [])
        if run is None:
            config, _ = load_config(profile, sets)
            page_images = check_page_images(page_images, pages or config.story.pages)
            check_writable(out_dir or Path(config.run.out))  # type: ignore[arg-type]
        else:
            parse_sets(sets or [])
    except StoryreelError as exc:
        _fail(str(exc))
    _launch_prefect(verbose)

    from storyreel import progress
    from storyreel.config import saved_config
    from storyreel.flows.make_film import make_film
    from storyreel.flows.runners import task_runner

    _mute_prefect_console(verbose)
    from storyreel import preflight

    try:  # what the run needs (the LLM's server, the GPU, the models, a dask or ray package), before Prefect starts
        config = config if run is None else saved_config(run, sets or [])
        task_runner(config)
        preflight.check(config, story=run is None or not (run / "plan.json").is_file())
    except StoryreelError as exc:
        _fail(str(exc))

    reporter = _reporter()
    previous = progress.use(reporter)
    try:
        with reporter:
            if run is None:  # the offline model loads while Prefect's temporary server starts
                from storyreel.agents.offline import preload

                preload(config)
            _start_prefect()
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
                page_images=page_images or None,
            )
    except StoryreelError as exc:
        _fail(str(exc))
    except KeyboardInterrupt as exc:
        from storyreel import faults

        resume = f"storyreel make --run {faults.run_dir() or run or 'RUN_DIR (printed above)'}"
        _say_stopped(f"resume with: {resume}")
        raise typer.Exit(faults.exit_code(getattr(exc, "signum", None))) from None
    finally:
        progress.use(previous)
        _drain_prefect_logs()
    result = result.model_copy(update={"seconds": _seconds()})  # the command's wall time, Prefect's start included
    if as_json:
        _print_json({key: getattr(result, key) for key in JSON_KEYS["make"]})
        return
    out.print(f"[bold]{escape(result.title)}[/]")
    if result.film:
        out.print(f"film: {result.film}", markup=False)
    else:
        out.print(f"stopped after: {result.stage}")
    if (Path(result.run_dir) / "book.epub").is_file():
        out.print(f"book: {Path(result.run_dir) / 'book.epub'} (and book/index.html)", markup=False)
    out.print(f"run directory: {result.run_dir}", markup=False)
    if result.url:
        out.print(f"Prefect UI: {result.url}", markup=False)
    out.print(
        f"made {result.made} asset(s), reused {result.reused}, in {result.seconds:.0f} s (profile {result.profile})"
    )


@app.command()
def show(
    run: Annotated[Path, typer.Argument(help="a run directory")],
    as_json: JsonOpt = False,
    contact_sheet: Annotated[
        Path | None,
        typer.Option("--contact-sheet", help="also write a PNG of the pages: each picture, its number and first words"),
    ] = None,
) -> None:
    """Show a run: the story, its assets, the film."""
    from storyreel.store import RunDir

    plan_file = run / "plan.json"
    if not plan_file.is_file():
        _fail(f"{run} has no plan.json: not a storyreel run directory, or it stopped before the story was written")
    _sound_run(run)
    from storyreel.versions import current_plan

    plan = current_plan(run)
    manifest = RunDir(run).manifest()
    kinds: dict[str, int] = {}
    for record in manifest.values():
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    film = run / "film.mp4"
    if contact_sheet is not None:
        from storyreel.contact_sheet import write_contact_sheet

        try:
            write_contact_sheet(run, contact_sheet)
        except StoryreelError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"--contact-sheet {contact_sheet}: cannot write it ({exc.strerror or exc})")
        err.print(f"contact sheet: {contact_sheet}", markup=False)
    if as_json:
        _print_json(
            {
                "run_dir": str(run.resolve()),
                "title": plan.title,
                "version": plan.version,
                "seed": plan.brief.seed,
                "characters": [{"name": c.name, "look": c.look} for c in plan.characters],
                "pages": [{"number": p.number, "text": p.text} for p in plan.pages],
                "assets": dict(sorted(kinds.items())),
                "film": str(film.resolve()) if film.exists() else None,
                "book": {k: str(p.resolve()) if p.exists() else None for k, p in _book_files(run).items()},
            }
        )
        return
    out.print(f"[bold]{escape(plan.title)}[/]  (plan v{plan.version}, {len(plan.pages)} pages, seed {plan.brief.seed})")
    for c in plan.characters:
        out.print(f"  [cyan]{escape(c.name)}[/]: {escape(c.look)}")
    for page in plan.pages:
        out.print(f"  {page.number:>2}. {page.text}", markup=False)
    out.print("assets: " + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none yet"))
    out.print(
        f"film: {escape(str(film))}" if film.exists() else "film: not made yet (resume with storyreel make --run)"
    )
    books = _book_files(run)
    if books["epub"].exists():
        out.print(f"book: {books['epub']}, {books['html']}", markup=False)
    else:
        out.print(f"book: not made yet (storyreel book {run})", markup=False)


def _book_files(run: Path) -> dict[str, Path]:
    return {"epub": run / "book.epub", "html": run / "book" / "index.html"}


@app.command()
def book(run: Annotated[Path, typer.Argument(help="a run directory")], as_json: JsonOpt = False) -> None:
    """Make the read-along book of a run (book.epub with narration that highlights each word, and book/index.html)
    from the pictures and narration it has: nothing is generated, an unchanged book is reused."""
    from storyreel.book import rebuild
    from storyreel.plan import StoryPlan

    try:
        epub, html = rebuild(run)
    except StoryreelError as exc:
        _fail(str(exc))
    pages = len(StoryPlan.load(run / "plan.json").pages)
    if as_json:
        _print_json({"epub": str(epub), "html": str(html), "pages": pages})
        return
    out.print(f"book: {epub} ({pages} pages, read aloud)", markup=False)
    out.print(f"HTML book: {html}", markup=False)


@app.command()
def backends(as_json: JsonOpt = False) -> None:
    """List the backends: installed, their default model's weights here, the device they would use; what to do.

    Ready means all three: the packages import, the weights are cached (or a local folder, or built locally, or
    downloadable now), and the device it needs is usable."""
    from storyreel.preflight import model_status
    from storyreel.registry import all_backends

    rows = []
    for b in all_backends():
        missing = b.missing()
        status = None
        if not missing:
            try:
                status = model_status(b.kind, b.name)
            except StoryreelError as exc:  # a class without its protocol's method: said, not raised
                missing = [str(exc)]
        advice = f"missing {', '.join(missing)}: {b.install}" if missing else status.advice if status else ""
        rows.append(
            {
                "kind": b.kind,
                "name": b.name,
                "ready": not missing and status is not None and status.weights_ok and status.device_ok,
                "installed": not missing,
                "missing": missing,
                "install": b.install,
                "model": status.model if status else "",
                "weights": status.weights if status else "",
                "device": status.device if status else "",
                "advice": advice,
                "summary": b.summary,
                "origin": b.origin,
            }
        )
    if as_json:
        _print_json({"backends": rows})
        return
    if not out.is_terminal:  # one whole line per backend: nothing cut to a width for a pipe or a file
        for r in rows:
            state = "ready" if r["ready"] else "not ready"
            weights = f"; {r['model']}: {r['weights']}" if r["model"] else ""
            device = f"; device {r['device']}" if r["device"] else ""
            advice = f"; {r['advice']}" if r["advice"] else ""
            out.print(f"{r['kind']} {r['name']}: {state}{weights}{device}{advice} — {r['summary']}", markup=False)
        return
    table = Table("kind", "name", "status", "model / device", "what it is")
    for column in table.columns:
        column.overflow = "fold"  # long advice wraps, whole, instead of ending in "…"
    for r in rows:
        status = "[green]ready[/]" if r["ready"] else f"[red]not ready[/]: {escape(r['advice'])}"
        where = f"{r['model']} ({r['weights']})" if r["model"] else ""
        where = "; ".join(part for part in (where, r["device"]) if part)
        table.add_row(r["kind"], r["name"], status, escape(where), escape(r["summary"]))
    out.print(table)


@app.command("config")
def show_config(
    profile: ProfileOpt = None,
    sets: SetsOpt = None,
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="a TOML file of settings", show_default="./storyreel.toml", metavar="FILE"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The resolved configuration: each setting, its value and where it comes from.

    Sources: default, profile <name>, a storyreel.toml, env STORYREEL_<SECTION>__<KEY> (the variable), --set."""
    from storyreel.config import config_sources

    try:
        config, rows = config_sources(profile, sets, config_file)
    except StoryreelError as exc:
        _fail(str(exc))
    if as_json:
        settings = [{"key": key, "value": value, "source": source} for key, value, source in rows]
        _print_json({"profile": config.profile, "settings": settings})
        return
    table = Table("setting", "value", "source", box=None, pad_edge=False)
    for key, value, source in rows:
        shown = json.dumps(value) if not isinstance(value, str) else value or '""'
        table.add_row(key, escape(shown), escape(source), style=None if source == "default" else "bold")
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


# --- revisions: `storyreel revise`, `history`, `revert` (see storyreel.flows.revise, storyreel.versions) ---


def _run_with_plan(run: Path) -> None:
    if not (run / "plan.json").is_file() or not (run / "config.json").is_file():
        _fail(f"{run} has no plan.json: not a storyreel run directory, or its story was never written")
    _sound_run(run)


@app.command()
def revise(
    run: Annotated[Path, typer.Argument(help="the run directory of the film")],
    request: Annotated[str, typer.Argument(help="what to change, e.g. 'make the dragon green'")] = "",
    page_image: Annotated[
        list[str] | None, typer.Option("--page-image", help="your own picture for a page: 4=my_drawing.png")
    ] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="override a setting: section.key=value")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would change, page by page, and stop: nothing is written")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show Prefect's logs")] = False,
) -> None:
    """Revise a film in plain words; only what the change touches is redone, earlier versions are kept.
    What was understood is printed page by page before anything is rendered."""
    _run_with_plan(run)
    from storyreel import limits
    from storyreel.config import parse_sets
    from storyreel.page_images import parse_page_images

    try:
        limits.check_text(request, "the request", limits.MAX_REQUEST)
        parse_sets(sets or [])
        page_images = parse_page_images(page_image or [])
    except StoryreelError as exc:
        _fail(str(exc))
    if not request.strip() and not page_images:
        _fail(f'the request is empty: say what to change, e.g. storyreel revise {run} "make the dragon green"')
    from storyreel import preflight
    from storyreel.agents.offline.rewrite import judge_request
    from storyreel.config import saved_config
    from storyreel.versions import current_plan

    try:  # what the plan alone can refuse is refused before Prefect (or langchain) is even imported; then the
        # GPU and the models are checked (the LLM's server may not be needed: rules first)
        config = saved_config(run, sets or [])
        judge_request(request, current_plan(run), config.llm.model)
        preflight.check(config, story=False)
    except StoryreelError as exc:
        _fail(str(exc))
    _launch_prefect(verbose)
    from storyreel import progress
    from storyreel.flows.revise import describe_kinds, revise_film

    _mute_prefect_console(verbose)
    reporter = _reporter()
    previous = progress.use(reporter)
    try:
        with reporter:
            _start_prefect()
            result = revise_film(
                str(run), request, page_images=page_images or None, settings=sets or [], dry_run=dry_run
            )
    except StoryreelError as exc:
        _fail(str(exc))
    except KeyboardInterrupt as exc:
        from storyreel import faults

        _say_stopped(f"finish with: storyreel make --run {run}")
        raise typer.Exit(faults.exit_code(getattr(exc, "signum", None))) from None
    finally:
        progress.use(previous)
        _drain_prefect_logs()
    if not result.changed:  # nothing to change, or a dry run (what it understood was printed before)
        out.print(result.message, markup=False)
        return
    if result.message:
        out.print(result.message, style="yellow", markup=False)
    total = result.made + result.reused
    out.print(f"redid {result.made} of {total} assets in {result.seconds:.0f} s; reused {result.reused}")
    untouched = [str(p.page) for p in result.pages if not p.redone and p.page is not None and not p.transition]
    for page in result.pages:
        if page.redone:
            reused = f"; reused {describe_kinds(page.reused)}" if page.reused else ""
            out.print(f"  {page.where}: redid {describe_kinds(page.redone)}{reused}")
    if untouched:
        out.print(f"  nothing redone on page{'s' if len(untouched) > 1 else ''} {', '.join(untouched)}")
    if result.film:
        kept = f" (v{result.version}, kept as {Path(result.film_version).name})" if result.film_version else ""
        out.print(f"film: {result.film}{kept}", markup=False)
    else:
        out.print(f"no film yet: finish it with storyreel make --run {run}", markup=False)


@app.command()
def history(run: Annotated[Path, typer.Argument(help="a run directory")], as_json: JsonOpt = False) -> None:
    """The versions of a film: the request that made each, when, and its film."""
    _run_with_plan(run)
    from storyreel.limits import shown as shorten
    from storyreel.versions import describe

    try:
        found, current = describe(run)
    except StoryreelError as exc:
        _fail(str(exc))
    if as_json:
        versions = [
            {
                "version": v.version,
                "action": v.action,
                "request": v.request,
                "date": v.date,
                "based_on": v.based_on,
                "film": str((run / v.film).resolve()) if v.film and (run / v.film).is_file() else None,
                "changes": v.changes,
            }
            for v in found.versions
        ]
        reverts = [{"date": r.date, "version": r.version, "rebuilt": r.rebuilt} for r in found.reverts]
        _print_json({"run_dir": str(run.resolve()), "current": current, "versions": versions, "reverts": reverts})
        return
    for v in found.versions:
        film = v.film if v.film and (run / v.film).is_file() else "no film"
        asked = repr(shorten(v.request)) if v.request else "; ".join(v.changes[:2]) or "(no request)"  # your pictures
        what = f"made from: {asked}" if v.action == "make" else f"revised from v{v.based_on}: {asked}"
        changes = f" ({len(v.changes)} change{'s' if len(v.changes) != 1 else ''})" if v.action == "revise" else ""
        mark = "  ← current" if v.version == current else ""
        out.print(f"v{v.version}  {v.date.replace('T', ' ')[:16]}  {film}  {what}{changes}{mark}", markup=False)
    for r in found.reverts:
        out.print(f"{r.date.replace('T', ' ')[:16]}  reverted to v{r.version}" + (" (rebuilt)" if r.rebuilt else ""))


@app.command()
def revert(
    run: Annotated[Path, typer.Argument(help="a run directory")],
    version: Annotated[int, typer.Argument(help="the version to restore (see storyreel history)")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show Prefect's logs")] = False,
) -> None:
    """Restore an earlier version: its plan and film, byte for byte, regenerating nothing still cached."""
    _run_with_plan(run)
    _quiet_libraries(verbose)
    from storyreel import progress
    from storyreel.versions import revert as restore

    _mute_prefect_console(verbose)
    reporter = _reporter()  # a film rebuilt from the cache shows its progress as make does
    previous = progress.use(reporter)
    try:
        with reporter:
            restored = restore(run, version)
    except StoryreelError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        err.print(f"\n[yellow]interrupted[/]: finished assets are kept; finish with: storyreel revert {run} {version}")
        raise typer.Exit(130) from None
    finally:
        progress.use(previous)
        _drain_prefect_logs()
    how = f"rebuilt from the cache: made {restored.made}, reused {restored.reused}"
    out.print(f"restored v{restored.version} ({how if restored.rebuilt else 'nothing redone'})")
    out.print(f"film: {restored.film}" if restored.film else "film: none for this version", markup=False)


# --- scheduled films: `storyreel deploy` and `storyreel serve` (see storyreel.flows.deployments) ------

PromptsOpt = Annotated[Path, typer.Option("--prompts", help="a text file, one story idea per line", metavar="FILE")]
CronOpt = Annotated[str | None, typer.Option("--cron", help='cron schedule, e.g. "0 18 * * *" (18:00 daily)')]
IntervalOpt = Annotated[float | None, typer.Option("--interval", help="schedule: every S seconds")]
RRuleOpt = Annotated[str | None, typer.Option("--rrule", help='RRule schedule, e.g. "FREQ=WEEKLY;BYDAY=SA"')]
TimezoneOpt = Annotated[
    str | None, typer.Option("--timezone", help="IANA time zone of the schedule, e.g. Europe/Paris", show_default="UTC")
]
RotationOpt = Annotated[str, typer.Option(help="next (a counter in the output folder) or by-date")]
PagesOpt = Annotated[
    int | None, typer.Option("--pages", "-n", help="pages per film, 1-24", show_default="story.pages: 6")
]


def _film_deployments(
    prompts: Path,
    cron: str | None,
    interval: float | None,
    rrule: str | None,
    timezone: str | None,
    rotation: str,
    profile: str | None,
    pages: int | None,
    sets: list[str] | None,
    out_dir: str | None,
    verbose: bool = False,
    served: bool = False,
) -> tuple[list, str]:
    """Check everything a scheduled film needs (the list, the schedule, the settings, a server that can
    schedule), then build the deployments; returns them and a line describing the schedule. ``served``: the
    deployments of ``storyreel serve``, named apart from ``deploy``'s (``deployments.SERVED_SUFFIX``)."""
    from storyreel.config import load_config

    if pages is not None and not 1 <= pages <= 24:
        _fail(f"--pages must be between 1 and 24, got {pages}")
    if rotation not in ("next", "by-date"):
        _fail(f"--rotation must be next or by-date, got {rotation!r}")
    try:
        config, _ = load_config(profile, sets)
    except StoryreelError as exc:
        _fail(str(exc))
    _quiet_libraries(verbose)
    from storyreel.flows import deployments

    try:
        count = len(deployments.read_prompts(prompts))
        schedule = deployments.schedule_from(cron, interval, rrule, timezone)
        deployments.check_server()
        out_folder = _out_folder(out_dir) or Path(config.run.out)
        suffix = deployments.SERVED_SUFFIX if served else ""
        film = deployments.film_deployment(
            prompts,
            schedule,
            rotation,  # type: ignore[arg-type]
            profile,
            pages,
            sets,
            out_folder,
            name=deployments.FILM_DEPLOYMENT + suffix,
        )
    except StoryreelError as exc:
        _fail(str(exc))
    revise = deployments.revise_deployment(name=deployments.REVISE_DEPLOYMENT + suffix)
    when = f"cron {cron!r}" if cron else f"every {interval:g} s" if interval else f"rrule {rrule!r}" if rrule else ""
    when = f"{when} ({timezone or 'UTC'})" if when else "no schedule: runs when triggered"
    note = f"{when}; {count} prompt(s) from {prompts}, rotation {rotation}"
    return [d for d in (film, revise) if d is not None], note


def _film_options(
    prompts: PromptsOpt,
    cron: CronOpt = None,
    interval: IntervalOpt = None,
    rrule: RRuleOpt = None,
    timezone: TimezoneOpt = None,
    rotation: RotationOpt = "next",
    profile: ProfileOpt = None,
    pages: PagesOpt = None,
    sets: SetsOpt = None,
    out_dir: OutOpt = None,
) -> dict[str, Any]:
    """The options ``deploy`` and ``serve`` share, declared once (``_with_film_options`` adds them)."""
    return dict(locals())


def _with_film_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command(film, **own)`` as a command that takes ``_film_options``' options, then its own: Typer reads
    the options from the signature, and ``film`` is the dict of the shared ones."""
    shared = list(inspect.signature(_film_options, eval_str=True).parameters.values())
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "film"]

    def run(**values: Any) -> None:
        film = {p.name: values.pop(p.name) for p in shared}
        command(film, **values)

    run.__signature__ = inspect.Signature(shared + own)  # type: ignore[attr-defined]
    run.__name__, run.__doc__ = command.__name__, command.__doc__
    return run


@app.command()
@_with_film_options
def deploy(
    film: dict[str, Any],
    pool: Annotated[str, typer.Option(help="work pool whose workers run the films (made if missing)")] = "storyreel",
) -> None:
    """Deploy the film-from-list (and revise-film) deployments to a Prefect server for a work pool's workers."""
    found, note = _film_deployments(**film)
    from storyreel.flows import deployments

    try:
        deployments.deploy(found, pool)
    except StoryreelError as exc:
        _fail(str(exc))
    for d in found:
        out.print(
            f"deployed {d.full_name} to work pool {pool!r}" + (f": {note}" if d is found[0] else ""), markup=False
        )
    out.print(f"start a worker:  prefect worker start --pool {pool}", markup=False)
    out.print(f"run one now:     prefect deployment run {found[0].full_name}")


@app.command()
@_with_film_options
def serve(film: dict[str, Any]) -> None:
    """Serve the same deployments from this process (no work pool) until Ctrl-C; their runs log here."""
    found, note = _film_deployments(**film, verbose=True, served=True)
    from storyreel import faults
    from storyreel.flows import deployments

    faults.allow(30.0)  # after Ctrl-C, Prefect pauses the served deployments on the server before it stops

    for d in found:
        out.print(f"serving {d.full_name}" + (f": {note}" if d is found[0] else ""), markup=False)
    out.print(f"run one now: prefect deployment run {found[0].full_name}; Ctrl-C stops")
    deployments.serve(found)


def _say_stopped(resume: str = "") -> None:
    """The one line that says a signal stopped the command (once), and how to resume."""
    global _stop_said
    if _stop_said:
        return
    _stop_said = True
    from storyreel import faults

    run = faults.run_dir()
    resume = resume or (f"resume with: storyreel make --run {run}" if run else "")
    kept = f": finished assets are kept; {escape(resume)}" if resume else ""
    err.print(f"\n[yellow]{faults.what_stopped()}[/]{kept}")


_stop_said = False


def _end_now(code: int) -> None:
    """End the process at once (a signal's grace period is over): tasks still running in other threads are
    abandoned; what they had not finished is redone on resume."""
    from storyreel import prefect_server

    _say_stopped()
    prefect_server.stop(timeout=1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _unexpected(exc: Exception) -> int:
    """One line for an error no command caught: an OS error a user can fix (exit 2), else an internal error
    (exit 1) whose traceback goes to a log file, never to the terminal."""
    from storyreel import faults
    from storyreel.runtime import first_line

    line = faults.os_error_line(exc)
    if line:
        err.print(f"[bold red]error:[/] {escape(line)}")
        return 2
    log = faults.crash_log(exc)
    where = f"the traceback is in {log}" if log else "no log file could be written"
    err.print(
        f"[bold red]internal error[/] {escape(type(exc).__name__)}: {escape(first_line(exc))} ({escape(where)}; "
        "please report it)"
    )
    return 1


def main() -> None:
    """The ``storyreel`` command: signals and unexpected errors end in one line and an exit status
    (``EXIT_CODES``); Prefect's temporary server is stopped once its logs are sent."""
    from storyreel import faults

    if not faults.working_dir_exists():
        err.print("[bold red]error:[/] the current folder no longer exists (deleted or moved): cd to an existing one")
        sys.exit(2)
    faults.install(on_overdue=_end_now)
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except KeyboardInterrupt:
        code = faults.exit_code()
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, the traceback in a file
        code = _unexpected(exc)
    faults.finishing()
    if faults.received is not None:
        code = faults.exit_code()
        _say_stopped()
    from storyreel import prefect_server

    prefect_server.stop(timeout=2 if faults.received else prefect_server.DRAIN_TIMEOUT)
    if faults.received is not None:  # tasks may still run in other threads: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _exit(code)


def _exit(code: int) -> None:
    """End the process as ``sys.exit`` does, less the interpreter's teardown: the threads that are not
    daemons are waited for, the exit handlers run (Prefect's, logging's, temporary folders'), the output is
    flushed, then ``os._exit``. After a film, freeing every object of torch, transformers and the tokenizer
    one by one (the garbage collector's last pass) took 2-3 s; the operating system frees them at once."""
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
