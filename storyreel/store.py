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

MANIFEST = "manifest.json"
STATS = ".stats.log"  # one AssetEvent (JSON) per line since reset_stats, from every process
_manifest_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


# --- atomic writes ----------------------------------------------------------------------------


def partial_path(final: Path) -> Path:
    """A temporary sibling of ``final`` with the same suffix (tools infer formats from it)."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.partial{final.suffix}")


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final`` in one rename, on error it is removed.
    Works for files and for directories (the caller creates the directory)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        if tmp.is_dir() and final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
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


def check_writable(out: Path) -> None:
    """The output folder exists or can be made, and a file can be written in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{uuid.uuid4().hex[:6]}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write to output folder {out}: {exc.strerror or exc}") from None


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
        return [AssetEvent.model_validate_json(line) for line in lines if line.strip()]

    def reset_stats(self) -> None:
        with self._manifest_guard():
            (self.path / STATS).unlink(missing_ok=True)

    def _count(self, event: AssetEvent) -> None:
        with self._manifest_guard(), open(self.path / STATS, "a", encoding="utf-8") as fh:
            fh.write(event.model_dump_json() + "\n")

    # locking -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[RunDir]:
        """Hold the run lock while a flow writes; a second writer gets a clear error."""
        lock = FileLock(str(self.path / ".run.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise RunLockedError(f"{self.path} is in use by another storyreel process") from None
        try:
            yield self
        finally:
            lock.release()

    @contextlib.contextmanager
    def _manifest_guard(self) -> Iterator[None]:
        with self._thread_lock, self._file_lock:
            yield

    # manifest --------------------------------------------------------------------------------
    def manifest(self) -> dict[str, AssetRecord]:
        path = self.path / MANIFEST
        if not path.exists():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        assets = data.get("assets", {})
        for raw in assets.values():
            if "page" not in raw:  # written before records said their page: derived once, here
                raw.update(_place_from_path(raw.get("path", "")))
        return {k: AssetRecord.model_validate(v) for k, v in assets.items()}

    def _record(self, record: AssetRecord) -> None:
        with self._manifest_guard():
            assets = self.manifest()
            assets[record.key] = record
            write_json(self.path / MANIFEST, {"assets": {k: v.model_dump() for k, v in assets.items()}})

    def lookup(self, key: str) -> Path | None:
        """The file of an asset if it is recorded and intact, else None."""
        record = self.manifest().get(key)
        if record is None:
            return None
        path = self.path / record.path
        if not path.exists() or sha256_file(path) != record.sha256:
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
        final = self.path / relpath.format(key=key[:8])
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
