"""The run directory: atomic writes, a lock while a flow writes, and a content-addressed asset manifest.

Every generated asset is described by a spec (what made it: backend, version, request, upstream
asset hashes). Its key is the hash of that spec. ``manifest.json`` maps key -> file + sha256. An asset
whose key is in the manifest and whose file is intact is reused; a missing or corrupt file is
regenerated, never returned. Files are named after their key, so older versions stay on disk for
revisions and reverts.

Each record (and each made/reused event) also says which page the asset belongs to (``page``, and
``transition`` for the clip that leaves that page), so reports group assets by page without reading
file names. Manifests written before that field existed get it once, on load, from their paths
(``_place_from_path``: the only place a path is read for it).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel

from storyreel.errors import InputError, RunLockedError
from storyreel.limits import shown as short

MANIFEST = "manifest.json"
STATS = ".stats.log"  # one AssetEvent (JSON) per line since reset_stats, from every process
_manifest_locks: dict[str, threading.Lock] = {}
_held_runs: dict[str, int] = {}  # run dir -> depth of ``RunDir.holding()`` in this process
_locks_guard = threading.Lock()


# --- atomic writes ----------------------------------------------------------------------------


_CANNOT_WRITE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def partial_path(final: Path) -> Path:
    """A temporary sibling of ``final`` with the same suffix (tools infer formats from it)."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.partial{final.suffix}")


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final`` in one rename, on error it is removed.
    Works for files and for directories (the caller creates the directory)."""
    tmp = partial_path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        if final.is_symlink():  # replaced, never followed
            final.unlink()
        elif tmp.is_dir() and final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as exc:
        if exc.errno in _CANNOT_WRITE:  # the disk, not storyreel: one line that says so
            raise InputError(f"cannot write {final}: {exc.strerror}") from None
        raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def copy_file(source: Path, target: Path) -> None:
    """``target`` becomes a copy of ``source``, a file of its own (an in-place write to one never damages the
    other), atomically: a reader sees the old file or the new one, never half a file. A symlink at ``target``
    is replaced, never followed."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` becomes a hard link to ``source`` (a copy where links are not possible, e.g. across
    file systems), atomically: a reader sees the old file or the new one, never half a file."""
    with atomic_path(target) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


def sha256_file(path: Path) -> str:
    """sha256 of a file, or of a directory's files (names and contents, in sorted order)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(sha256_file(child).encode())
        return digest.hexdigest()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_run_file(path: Path, parse: Callable[[str], Any], what: str, fix: str = "") -> Any:
    """``parse(text)`` of the run file ``path``; an InputError naming the file and what is wrong with it when it
    is a symlink, unreadable, not UTF-8, not JSON or not of the expected schema (``what`` names its content,
    ``fix`` says what to do)."""
    from pydantic import ValidationError

    fix = f"; {fix}" if fix else ""
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link: a run keeps its own files, never one outside it{fix}")
    try:
        return parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        why = "not UTF-8 text"
    except (json.JSONDecodeError, RecursionError):
        why = "not valid JSON"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        why = f"not {what}: {where}: {first['msg']}"
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        why = f"not {what}: {short(str(exc) or type(exc).__name__)}"
    except OSError as exc:
        why = f"unreadable: {exc.strerror or exc}"
    raise InputError(f"{path} is damaged ({short(why, 160)}){fix}")


# Files of a run that are its state (never assets): a symlink or a folder in their place is refused.
RUN_STATE_FILES = (
    "plan.json",
    "brief.json",
    "config.json",
    MANIFEST,
    "history.json",
    "timeline.json",
    "subtitles.srt",
    "story.md",
    STATS,
    ".run.lock",
    ".manifest.lock",
    ".film.json",
)


def check_run(path: Path) -> None:
    """Refuse, with one line saying what is wrong, a run directory that is not sound: a folder inside it that is
    a symbolic link (storyreel would write through it, outside the run), or a state file (plan, manifest,
    config, history, timeline, locks) that is a symbolic link or not a file. Damaged asset files and films are
    not refused here: they fail their manifest check and are regenerated."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: not a storyreel run directory")
    for name in RUN_STATE_FILES:
        entry = path / name
        if entry.is_symlink():
            raise InputError(
                f"{entry} is a symbolic link: a run keeps its own files; replace it with the file itself or remove it"
            )
        if entry.exists() and not entry.is_file():
            raise InputError(f"{entry} is not a file; remove it (it is remade)")
    for folder, dirs, _files in os.walk(path, followlinks=False):
        for name in dirs:
            entry = Path(folder) / name
            if entry.is_symlink():
                raise InputError(
                    f"{entry} is a symbolic link to a folder: storyreel writes only inside the run; "
                    "replace it with a real folder (or remove it: what was in it is regenerated)"
                )


def clean_partials(path: Path) -> int:
    """Remove the ``.…partial…`` files and folders that killed runs left in the run directory ``path`` (the run
    lock is held: no other process is writing them). Returns how many were removed."""
    removed = 0
    for folder, dirs, files in os.walk(path, followlinks=False):
        for name in [*files, *dirs]:
            if name.startswith(".") and ".partial" in name:
                entry = Path(folder) / name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                    dirs.remove(name)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
    return removed


# --- specs ------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _canonical(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def spec_key(spec: dict[str, Any]) -> str:
    """The asset key: a hash of the spec's canonical JSON."""
    text = json.dumps(_canonical(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- the run directory ------------------------------------------------------------------------


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "film"


def check_writable(out: Path, what: str = "output folder") -> None:
    """The folder ``out`` exists or can be made, and a file can be written in it; else an InputError naming it
    as ``what``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{uuid.uuid4().hex[:6]}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write to {what} {out}: {exc.strerror or exc}") from None


def new_run_dir(out: Path, prompt: str) -> Path:
    """A fresh, unique ``<out>/<date>-<slug>-<id>``; the output folder must be writable."""
    check_writable(out)
    path = out / f"{date.today().isoformat()}-{slugify(prompt)}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


class AssetRecord(BaseModel):
    key: str
    kind: str
    path: str  # relative to the run dir
    sha256: str
    spec: dict[str, Any]
    created: float
    seconds: float = 0.0
    meta: dict[str, Any] = {}  # what the producer reported about it, e.g. an image critic's scores
    page: int | None = None  # the page it belongs to (a transition: the page it leaves); None: the whole film
    transition: bool = False  # a page-to-page transition clip


class AssetEvent(BaseModel):
    """One asset asked for during a flow run: made or reused, and where in the film it belongs."""

    which: Literal["made", "reused"]
    kind: str
    path: str = ""  # relative to the run dir
    page: int | None = None  # as asked for in this run (a page a revision moved is reported where it is now)
    transition: bool = False


_OLD_PAGE_PATH = re.compile(r"^pages/p(\d+)/")
_OLD_TRANSITION_PATH = re.compile(r"^transitions/t(\d+)-\d+")


def _place_from_path(path: str) -> dict[str, Any]:
    """Migration only: the page of an asset recorded before records had one, from its path
    (``pages/pNN/...``, ``transitions/tNN-MM-...``); anything else belongs to the whole film."""
    if m := _OLD_PAGE_PATH.match(path):
        return {"page": int(m.group(1)), "transition": False}
    if m := _OLD_TRANSITION_PATH.match(path):
        return {"page": int(m.group(1)), "transition": True}
    return {"page": None, "transition": False}


def _parse_manifest(text: str) -> dict[str, AssetRecord]:
    data = json.loads(text)
    assets = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(assets, dict) or set(data) != {"assets"}:
        raise ValueError("not one assets table")
    for raw in assets.values():
        if isinstance(raw, dict) and "page" not in raw:  # written before records said their page: derived once
            raw.update(_place_from_path(str(raw.get("path", ""))))
    return {k: AssetRecord.model_validate(v) for k, v in assets.items()}


def _has_symlink(path: Path) -> bool:
    """A directory asset with a symbolic link inside it (its hash would read through the link)."""
    return path.is_dir() and any(p.is_symlink() for p in path.rglob("*"))


class RunDir:
    """A run directory. Safe to share between threads of one process; the manifest is also guarded
    by a file lock, so processes (e.g. Dask workers) can write assets into the same run."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        self._file_lock = FileLock(str(self.path / ".manifest.lock"))
        with _locks_guard:
            self._thread_lock = _manifest_locks.setdefault(str(self.path), threading.Lock())

    def stats(self) -> dict[str, list[str]]:
        """Kinds of the assets made and reused since ``reset_stats``, in this process or any other that
        wrote into this run (Dask or Ray workers): the counts are kept in a file beside the manifest."""
        counts: dict[str, list[str]] = {"made": [], "reused": []}
        for event in self.events():
            counts[event.which].append(event.kind)
        return counts

    def events(self) -> list[AssetEvent]:
        """The assets asked for since ``reset_stats``, in order: made or reused, kind, path, page."""
        with self._manifest_guard():
            path = self.path / STATS
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        events = []
        for line in lines:
            try:
                events.append(AssetEvent.model_validate_json(line))
            except ValueError:  # a line half-written by a killed process: only counts are lost
                continue
        return events

    def reset_stats(self) -> None:
        with self._manifest_guard():
            (self.path / STATS).unlink(missing_ok=True)

    def _count(self, event: AssetEvent) -> None:
        with self._manifest_guard(), open(self.path / STATS, "a", encoding="utf-8") as fh:
            fh.write(event.model_dump_json() + "\n")

    # locking -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[RunDir]:
        """Hold the run lock while a flow writes; a second writer gets a clear error. Inside ``holding()`` of
        the same run in this process (a revision or a revert that runs the make-film flow), the lock is
        already held: nothing more is taken."""
        key = str(self.path)
        with _locks_guard:
            held = _held_runs.get(key, 0) > 0
        if held:
            yield self
            return
        lock_file = self.path / ".run.lock"
        if lock_file.is_symlink() or (lock_file.exists() and not lock_file.is_file()):
            raise InputError(f"{lock_file} is not a lock file of storyreel's (a symbolic link or a folder); remove it")
        lock = FileLock(str(lock_file))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise RunLockedError(f"{self.path} is in use by another storyreel process") from None
        except OSError as exc:
            raise InputError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        try:
            yield self
        finally:
            lock.release()

    @contextlib.contextmanager
    def holding(self) -> Iterator[RunDir]:
        """The run lock (``locked``), held for everything inside, flows this process runs on the run included:
        what reads or writes the run's versions takes it first, so no other command changes them meanwhile."""
        key = str(self.path)
        with self.locked():
            with _locks_guard:
                _held_runs[key] = _held_runs.get(key, 0) + 1
            try:
                yield self
            finally:
                with _locks_guard:
                    _held_runs[key] -= 1

    @contextlib.contextmanager
    def _manifest_guard(self) -> Iterator[None]:
        with self._thread_lock, self._file_lock:
            yield

    # manifest --------------------------------------------------------------------------------
    def manifest(self) -> dict[str, AssetRecord]:
        path = self.path / MANIFEST
        if not path.exists() and not path.is_symlink():
            return {}
        return read_run_file(
            path,
            _parse_manifest,
            "a manifest",
            f"move it away (e.g. to {MANIFEST}.damaged) and resume: every asset is then made again",
        )

    def _record(self, record: AssetRecord) -> None:
        with self._manifest_guard():
            assets = self.manifest()
            assets[record.key] = record
            write_json(self.path / MANIFEST, {"assets": {k: v.model_dump() for k, v in assets.items()}})

    def inside(self, relpath: str) -> Path:
        """``relpath`` as a path inside the run, for writing: an InputError when it would leave the run
        (absolute, ``..``) or pass through a symbolic link (a folder of the run linked elsewhere)."""
        rel = Path(relpath)
        if not relpath or rel.is_absolute() or ".." in rel.parts:
            raise InputError(f"{short(relpath)!r} is not a path inside the run {self.path}")
        current = self.path
        for part in rel.parts[:-1]:
            current = current / part
            if current.is_symlink():
                raise InputError(
                    f"{current} is a symbolic link: storyreel writes only inside the run; "
                    "replace it with a real folder (or remove it: what was in it is regenerated)"
                )
        return self.path / rel

    def lookup(self, key: str) -> Path | None:
        """The file of an asset if it is recorded, inside the run (no symlink on the way) and intact, else None."""
        record = self.manifest().get(key)
        if record is None:
            return None
        try:
            path = self.inside(record.path)
        except InputError:
            return None
        if path.is_symlink() or not path.exists() or _has_symlink(path) or sha256_file(path) != record.sha256:
            return None
        return path

    def asset(
        self,
        kind: str,
        spec: dict[str, Any],
        relpath: str,
        produce: Callable[[Path], dict[str, Any] | None],
        page: int | None = None,
        transition: bool = False,
    ) -> Path:
        """Return the asset for ``spec``, made by ``produce(tmp_path)`` only if it is not intact on disk.

        Args:
            kind: a label for reports (image, clip, narration ...).
            spec: everything that decides the asset's content.
            relpath: where it goes, relative to the run dir; ``{key}`` is replaced by the first 8
                characters of the spec key, e.g. ``pages/p01/image-{key}.png``.
            produce: writes the asset to the path it is given (a file, or a directory it creates); a dict
                it returns is kept in the manifest as the record's ``meta``.
            page: the page the asset belongs to (for a transition, the page it leaves); None: the whole film.
            transition: the asset is the transition from ``page`` to the next page.
        """
        key = spec_key({"kind": kind, **spec})
        place = {"page": page, "transition": transition}
        found = self.lookup(key)
        if found is not None:
            self._count(AssetEvent(which="reused", kind=kind, path=self.relative(found), **place))
            return found
        final = self.inside(relpath.format(key=key[:8]))
        started = time.perf_counter()
        with atomic_path(final) as tmp:
            meta = produce(tmp)
        record = AssetRecord(
            key=key,
            kind=kind,
            path=final.relative_to(self.path).as_posix(),
            sha256=sha256_file(final),
            spec=_canonical(spec),
            created=time.time(),
            seconds=round(time.perf_counter() - started, 3),
            meta=_canonical(meta) if isinstance(meta, dict) else {},
            **place,
        )
        self._record(record)
        self._count(AssetEvent(which="made", kind=kind, path=record.path, **place))
        return final

    def relative(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.path).as_posix()
