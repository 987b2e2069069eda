"""Pre-flight checks of what a user typed for ``grokpaper run``, before any notebook runs.

Every ``-p NAME=VALUE`` is checked against the chosen notebooks' ``parameters`` cells and the
parameter dataclasses their ``profiles.resolve`` calls name: type, range and allowed values,
as each dataclass declares them (``RANGES`` and ``CHOICES``, see :mod:`grokpaper.core.params`;
so this module knows no study). Then each chosen notebook's parameter objects are built with
the values applied, which runs their cross-field rules; the memory estimate of each one's
largest ensemble is compared with the memory free on its device; an MNIST chapter's folder is
read whole and its parameters checked against the data found (``n_train`` within the pool).
A typo never leaves a half-run book or store behind. Problems raise :class:`BadInput` (a
ValueError) naming what is wrong and what is allowed.

Building the objects imports the studies (torch, ~2-4 s): every value is checked first, so a
typo is reported without that cost.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import types
import typing
import zlib
from collections.abc import Iterable
from typing import Any

from grokpaper.book.notebooks import (
    Layout,
    Notebook,
    NotebookParameters,
    load_class,
    notebook_parameters,
)
from grokpaper.core import memory, profiles
from grokpaper.core import params as P
from grokpaper.core.files import writable_folder
from grokpaper.core.params import Range
from grokpaper.core.paths import default_device, device_problem, mnist_dir, store_root

#: Allowed values of a string parameter: its dataclass's ``CHOICES[field]``; None: any string.
Choices = tuple[str, ...] | None


class BadInput(ValueError):
    """A value the user typed that the chosen notebooks cannot take; the message says why."""


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``["seeds=3", "fs=[0,0.2]", "tag=x"]`` -> ``{"seeds": 3, "fs": [0, 0.2], "tag": "x"}``."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"parameter must look like name=value, got {item!r}")
        try:
            params[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    return params


#: Parameters no dataclass field describes (notebook-only, default None or a literal): their
#: type and range. Every other range is its dataclass's ``RANGES`` (grokpaper.core.params).
EXTRA: dict[str, tuple[type, Range | None]] = {
    "data_dir": (str, None), "threshold": (float, P.FRACTION),
    # carvalho/datasets draws 40 subclasses x per_subclass x 117 floats for its pictures
    "per_subclass": (int, Range(1, cap=10_000)), "noise": (float, P.SCALE),
    "geometry_seed": (int, P.SEED)}
EXTRA_TYPES: dict[str, Any] = {name: kind for name, (kind, _) in EXTRA.items()}


def range_of(cls: type | None, field: str) -> Range | None:
    """The range of number field ``field``: its dataclass's ``RANGES``, else :data:`EXTRA`."""
    if cls is not None and field in getattr(cls, "RANGES", {}):
        return cls.RANGES[field]
    return EXTRA.get(field, (None, None))[1]


def choices_of(cls: type, field: str) -> Choices:
    """The values ``cls`` allows for string field ``field`` (its ``CHOICES``), if it says."""
    return getattr(cls, "CHOICES", {}).get(field)


def _describe(name: str, hint: Any, choices: Choices = None, rng: Range | None = None) -> str:
    """What ``name`` takes, in words, e.g. 'a list of numbers in [0, 1], e.g. [0, 0.2]'."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    if typing.get_origin(hint) is tuple:
        elem = typing.get_args(hint)[0]
        one, choices = _describe(name, elem, choices, rng), choices if elem is str else None
        for a, b in (("an integer", "integers"), ("a number", "numbers"),
                     ("a string", "strings"), ("one of", "items from")):
            if one.startswith(a):
                one = b + one[len(a):]
                break
        example = json.dumps([choices[0]] if choices else {int: [100, 200], float: [0.1, 0.2],
                                                           str: ["a"]}.get(elem, []))
        text = f"a list of {one}, e.g. {name}={example.replace(' ', '')}"
    elif hint is str:
        text = ("one of " + ", ".join(repr(c) for c in choices)) if choices else "a string"
    elif hint is bool:
        text = "true or false"
    elif hint in (int, float):
        word = "an integer" if hint is int else "a number"
        text = f"{word} {rng or 'of any value'}"
    else:
        text = f"a value of type {getattr(hint, '__name__', hint)}"
    return text + (" or null" if optional else "")


def _problem(name: str, value: Any, hint: Any, choices: Choices = None,
             rng: Range | None = None) -> str | None:
    """Why ``value`` does not fit ``hint`` (and range ``rng``), or None if it does."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(hint)):
            return None
        hint = args[0]
    if typing.get_origin(hint) is tuple:
        elems = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or not value:
            return "not a non-empty list"
        if (len(elems) != 2 or elems[1] is not Ellipsis) and len(value) != len(elems):
            return f"not a list of {len(elems)}"
        for item in value:
            if (why := _problem(name, item, elems[0], choices, rng)) is not None:
                return f"{item!r} is {why}" if why.startswith("not") else why
        return None
    if hint is bool:
        return None if isinstance(value, bool) else "not true or false"
    if hint is str:
        if not isinstance(value, str):
            return "not a string"
        return None if choices is None or value in choices else f"{value!r} is not allowed"
    if hint in (int, float):
        numeric = (int,) if hint is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            return "not an integer" if hint is int else "not a number"
        if not math.isfinite(value):
            return f"{value!r} is not finite"
        return None if rng is None else rng.problem(value)
    return None  # a type this check does not know: left to the notebook


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def check_parameters(nb: NotebookParameters, profile: str, params: dict[str, Any]
                     ) -> list[Any]:
    """Raise :class:`BadInput` unless ``nb`` can take ``params`` (names it lacks are skipped:
    see :func:`check_run_inputs`); returns the parameter objects ``nb`` will resolve (whose
    construction ran their cross-field rules)."""
    check_values(nb, params)
    return resolve_all(nb, profile, params)


def check_values(nb: NotebookParameters, params: dict[str, Any]) -> None:
    """Raise :class:`BadInput` unless each of ``params`` that ``nb`` takes has the type,
    range and choices its field declares."""
    mine = {k: v for k, v in params.items() if k in nb.defaults}
    for name, value in mine.items():
        if value is None and nb.defaults[name] is None:
            continue  # null is the parameter's own default: "the profile's value"
        try:
            where = nb.field_of(name)
            hint = typing.get_type_hints(where[0]).get(where[1]) if where else None
            choices = choices_of(*where) if where else None
            rng = range_of(*where) if where else range_of(None, name)
        except (ImportError, AttributeError, NameError):
            # The notebook will fail on its own import, with its own message.
            hint, choices, rng = None, None, None
        if hint is None and nb.defaults[name] is not None:
            hint = type(nb.defaults[name]) | None
        if hint is None and name in EXTRA:
            hint = EXTRA[name][0] | None
        if hint is None:
            continue  # nothing says what it takes: the notebook will
        why = _problem(name, value, hint, choices, rng)
        if why is not None:
            raise BadInput(f"{nb.name}: parameter {name}={_shown(value)}: {why}; {name} takes "
                           f"{_describe(name, hint, choices, rng)}")


def resolve_all(nb: NotebookParameters, profile: str, params: dict[str, Any]) -> list[Any]:
    """The parameter objects of ``nb``'s ``profiles.resolve`` calls with ``params`` applied;
    :class:`BadInput` if one breaks a rule of its dataclass (which the constructor runs)."""
    mine = {k: v for k, v in params.items() if k in nb.defaults}
    resolved = []
    for figures, where, mapping in nb.resolves:
        overrides = {mapping[k]: v for k, v in mine.items() if k in mapping}
        for figure in figures:
            try:
                resolved.append(profiles.resolve(figure, load_class(where), profile,
                                                 **overrides))
            except Exception as exc:
                raise BadInput(f"{nb.name}: {' '.join(str(exc).split())}") from exc
    return resolved


def _check_memory(nb: NotebookParameters, resolved: list[Any]) -> None:
    """Each resolved figure's ensembles fit in the memory free on its device one member at a
    time: the sweeps cut larger ensembles to fit (:func:`grokpaper.core.memory.budget`), so
    only a run too large to train alone is refused here."""
    for obj in resolved:
        estimate = obj.memory(max_members=1) if hasattr(obj, "memory") else None
        if estimate is None:
            continue
        device = "cpu"
        if estimate.total > SMALL:  # worth importing torch (~2-4 s) to know the device
            device = default_device()
        free = memory.free_bytes(device)
        if estimate.total > memory.USABLE * free:
            raise BadInput(
                f"{nb.name}: its largest ensemble needs about {estimate} even at one "
                f"member (grokpaper/core/memory.py), more than {memory.USABLE:.0%} of the "
                f"{memory.size(free)} free on {device}; lower seeds, sizes or widths")


#: Estimates below this fit anywhere: no need to import torch to learn the device.
SMALL = 256 * 2**20


def _check_mnist(nb: NotebookParameters, params: dict[str, Any], explicit: bool,
                 resolved: list[Any]) -> None:
    """The MNIST folder of an MNIST notebook must exist and hold whole, readable IDX files,
    and the parameters must fit the data found (e.g. ``n_train`` within the pool)."""
    if "data_dir" not in nb.defaults:
        return
    data_dir = params.get("data_dir")
    if data_dir is None and mnist_dir() is None and not explicit:
        return  # a whole-book run without MNIST: those pages stop with their own message
    from grokpaper.core import mnist_data as mnist  # torch: only here (module docstring)

    try:
        folder = mnist.find_dir(data_dir)
        for stem, magic in zip(mnist.FILES["t10k"], (mnist.IMAGES_MAGIC, mnist.LABELS_MAGIC),
                               strict=True):
            path = mnist.locate(folder, stem)
            opener = gzip.open if path.suffix == ".gz" else open
            try:
                with opener(path, "rb") as fh:
                    head = fh.read(4)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise ValueError(f"{path} is a damaged gzip file ({exc})") from exc
            if len(head) < 4 or int.from_bytes(head, "big") != magic:
                raise ValueError(f"{path} is not an MNIST IDX file (bad header)")
        data = mnist.load(folder)  # reads every file whole: cut short, bad bytes, shapes
        for obj in resolved:
            if hasattr(obj, "check_data"):
                obj.check_data(data.train_labels)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        message = " ".join(str(exc).split())
        raise BadInput(f"{nb.name}: {message}") from exc


def check_environment(layout: Layout) -> None:
    """Raise :class:`BadInput` (one line) unless the store, ``book/`` and ``build/`` can be
    written (a read-only folder, a full disk, a path that is a file) and
    ``$GROKPAPER_DEVICE``, when set, names a device torch can use here; nothing is created."""
    store = store_root()
    env = os.environ.get("GROKPAPER_STORE")
    places = [(store, f"the result store (GROKPAPER_STORE={env})" if env else "the result store",
               "point GROKPAPER_STORE at a writable folder"),
              (layout.book, "the book folder", "make it writable (or work in a writable clone)"),
              (layout.build, "the build folder", "make it writable and free some space")]
    for folder, what, fix in places:
        problem = writable_folder(folder, what=what)
        if problem is not None:
            raise BadInput(f"{problem}; {fix}")
    device = os.environ.get("GROKPAPER_DEVICE")
    if device:
        problem = device_problem(device)  # imports torch (~2-4 s): only when the variable is set
        if problem is not None:
            raise BadInput(problem)


def check_run_inputs(chosen: list[Notebook], profile: str, params: dict[str, Any], *,
                     explicit: bool = True) -> None:
    """Raise :class:`BadInput` (one line) if ``params`` do not fit the ``chosen`` notebooks.

    A name must be a parameter of at least one chosen notebook (papermill hands every
    parameter to every notebook; those without it ignore it), and its value must fit each
    notebook that takes it. ``explicit``: the notebooks were named by the user (an MNIST
    notebook then needs its data even when no folder is set).
    """
    if "profile" in params:
        names = ", ".join(profiles.PROFILE_NAMES)
        raise BadInput(f"set the profile with --profile (one of {names}), not -p profile=...")
    infos = [notebook_parameters(nb) for nb in chosen]
    allowed = sorted({n for info in infos for n in info.defaults} - {"profile"})
    for name in params:
        if not any(name in info.defaults for info in infos):
            which = (f"notebook {chosen[0].name}" if len(chosen) == 1
                     else f"any of the {len(chosen)} chosen notebooks")
            raise BadInput(f"unknown parameter {name!r} for {which}; allowed: "
                           f"{', '.join(allowed) or '(none)'}")
    for info in infos:  # every value first: a typo is found without importing a study
        check_values(info, params)
    for info in infos:
        resolved = resolve_all(info, profile, params)
        _check_mnist(info, params, explicit, resolved)
        _check_memory(info, resolved)

