"""Backends by kind and name, found through entry points and loaded lazily.

Every backend, storyreel's own as much as a plugin's, is an entry point of the group ``storyreel.backends``
named ``"<kind>.<name>"`` whose value is ``"module:Class"``. storyreel declares its own in its pyproject.toml;
a plugin package declares its own the same way (plugins/storyreel-audiocraft is one)::

    [project.entry-points."storyreel.backends"]
    "image.mymodel" = "my_package.image_mymodel:MyModel"

The first line of the class's docstring is its summary in ``storyreel backends``, and it says what it needs in a
class attribute, checked without importing the modules::

    requires = ("torch", "diffusers")  # importable modules it needs

The pip line for what is missing is made from ``requires`` (``PIP_PACKAGES`` names the packages whose module is
called otherwise); a backend whose packages need more than a pip line says so in its own ``install`` attribute.

They are read by importing the backend's module, so that module must import cheaply: heavy libraries (torch,
diffusers, transformers, the backend's own ``requires``) are imported inside the methods that use them. Then
``storyreel backends`` lists every backend without importing torch, and ``storyreel --help`` imports none.
A plugin's backend of the same kind and name replaces a built-in one. A new kind is one line in ``KINDS``: its
name and the one method of its protocol (generators/base.py), which :func:`load` checks the class has.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from storyreel.errors import BackendError, ConfigError

ENTRY_POINT_GROUP = "storyreel.backends"
# kind -> the one method of its protocol (generators/base.py), in the order the film is made
KINDS: dict[str, str] = {
    "image": "generate",
    "keyframes": "keyframes",
    "interpolation": "interpolate",
    "narration": "speak",
    "music": "compose",
    "sfx": "make",
    "segment": "encode",
    "assemble": "assemble",
    "critic": "score",
}
# importable module -> what to pip install for it, where the two names differ
PIP_PACKAGES: dict[str, str] = {
    "cv2": "opencv-python-headless",
    "PIL": "pillow",
    "diffusers": "diffusers accelerate",
    "espeakng_loader": "espeakng-loader",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "kokoro": "'storyreel[audio]'",
    "misaki": "'storyreel[audio]'",
    "torchsde": "'storyreel[audio]'",
    "ftfy": "'storyreel[video]'",
}
BUILT_IN = "built-in"  # the origin of the backends storyreel itself declares


class _Resolved(NamedTuple):
    cls: type | None
    error: str = ""  # why the class could not be imported
    absent: str = ""  # the module that was not found, if that was why


@functools.cache
def _resolve(target: str) -> _Resolved:
    """The class a ``"module:Class"`` target names, imported once; or why it cannot be."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        return _Resolved(None, f"{module_name} could not be imported: {exc}", (exc.name or "").partition(".")[0])
    except Exception as exc:  # a broken plugin must not break the listing of the others: say what it raised
        return _Resolved(None, f"{module_name} could not be imported: {type(exc).__name__}: {exc}")
    cls = getattr(module, attr, None)
    return _Resolved(cls) if cls is not None else _Resolved(None, f"{module_name} has no {attr}")


@dataclass(frozen=True)
class BackendInfo:
    """One declared backend. What it needs and its summary come from its class, imported when first asked."""

    kind: str
    name: str
    target: str  # "module:Class"
    origin: str = BUILT_IN  # or the name of the plugin distribution that declares it

    @property
    def requires(self) -> tuple[str, ...]:
        return tuple(getattr(_resolve(self.target).cls, "requires", ()))

    @property
    def install(self) -> str:
        """How to get what it needs: the class's own ``install`` line where it has one, else a pip line for the
        modules it needs (those missing, or all of them when none is)."""
        resolved = _resolve(self.target)
        if resolved.cls is None:
            return resolved.error
        if own := getattr(resolved.cls, "install", ""):
            return own
        return install_hint(self.missing() or list(self.requires))

    @property
    def summary(self) -> str:
        """The first line of the class's docstring."""
        doc = inspect.getdoc(_resolve(self.target).cls) or ""
        first = doc.partition("\n")[0].strip()
        return first if first.endswith("...") else first.removesuffix(".")

    def missing(self) -> list[str]:
        """Modules it needs that are not importable (its own module imported, its requirements only looked up)."""
        resolved = _resolve(self.target)
        if resolved.cls is None:
            return [resolved.absent or self.target.partition(":")[0]]
        return [mod for mod in self.requires if importlib.util.find_spec(mod) is None]


def install_hint(modules: list[str]) -> str:
    """``pip install ...`` for importable module names (``cv2`` is opencv-python-headless, and so on)."""
    packages = dict.fromkeys(PIP_PACKAGES.get(mod, mod) for mod in modules)
    return f"pip install {' '.join(packages)}" if packages else ""


def all_backends() -> list[BackendInfo]:
    """Every backend of the ``storyreel.backends`` entry-point group, by kind in the order of ``KINDS``;
    within a kind, storyreel's own first, then plugins' (which replace a built-in of the same name)."""
    return list(_scan())


@functools.cache
def _scan() -> tuple[BackendInfo, ...]:
    """The entry points, read once per process: reading them opens every installed package's metadata
    (about 35 ms), and a film looks up a backend for every asset it makes or checks. A package installed
    while the process runs is seen by the next ``storyreel`` command."""
    found: dict[BackendInfo, None] = {}  # ordered and without repeats (a package seen twice on the path)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind in KINDS and name:
            dist = ep.dist.name if ep.dist else "plugin"
            found[BackendInfo(kind, name, ep.value, BUILT_IN if dist == "storyreel" else dist)] = None
    order = list(KINDS)
    return tuple(sorted(found, key=lambda b: (order.index(b.kind), b.origin != BUILT_IN)))


def names(kind: str) -> list[str]:
    return sorted({b.name for b in all_backends() if b.kind == kind})


def info(kind: str, name: str) -> BackendInfo:
    if kind not in KINDS:
        raise ConfigError(f"unknown backend kind {kind!r}; kinds: {', '.join(KINDS)}")
    for backend in reversed(all_backends()):  # a plugin may replace a built-in of the same name
        if backend.kind == kind and backend.name == name:
            return backend
    raise ConfigError(f"unknown {kind} backend {name!r}; available: {', '.join(names(kind)) or 'none'}")


def load(kind: str, name: str) -> type:
    """Import and return the backend class, once what it needs is there."""
    backend = info(kind, name)
    resolved = _resolve(backend.target)
    if resolved.cls is None:
        raise BackendError(f"{kind} backend {name!r}: {resolved.error}")
    if not callable(getattr(resolved.cls, KINDS[kind], None)):
        raise BackendError(f"{kind} backend {name!r}: {backend.target} has no {KINDS[kind]}() method")
    missing = backend.missing()
    if missing:
        hint = f": {backend.install}" if backend.install else ""
        raise BackendError(f"{kind} backend {name!r} needs {', '.join(missing)}{hint}")
    return resolved.cls


def create(kind: str, name: str, options: dict[str, Any] | None = None) -> Any:
    """Build a backend with its options checked against its ``Options`` model."""
    cls = load(kind, name)
    options_model: type[BaseModel] | None = getattr(cls, "Options", None)
    if options_model is None:
        if options:
            raise ConfigError(f"{kind} backend {name!r} takes no options, got {sorted(options)}")
        return cls()
    try:
        parsed = options_model.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        known = ", ".join(options_model.model_fields) or "none"
        raise ConfigError(f"{kind} backend {name!r} option {key!r}: {first['msg']} (options: {known})") from None
    return cls(parsed)


_instances: dict[str, Any] = {}
_instances_lock = threading.Lock()


def instance(kind: str, name: str, options: dict[str, Any] | None = None) -> Any:
    """A backend built once per process for the same kind, name and options (models stay loaded)."""
    import json

    key = f"{kind}:{name}:{json.dumps(options or {}, sort_keys=True, default=str)}"
    with _instances_lock:
        if key not in _instances:
            _instances[key] = create(kind, name, options)
        return _instances[key]
