"""Pre-flight checks of what a user typed for ``grokpaper run``, before any notebook runs.

Every ``-p NAME=VALUE`` is checked against the chosen notebooks' ``parameters`` cells and the
parameter dataclasses their ``profiles.resolve`` calls name (type, range, allowed choices),
and the MNIST folder when an MNIST notebook is chosen, so that a typo never leaves a half-run
book or store behind. Problems raise :class:`BadInput` (a ValueError) naming what is allowed.
"""

from __future__ import annotations

import ast
import dataclasses
import gzip
import importlib
import json
import math
import types
import typing
from collections.abc import Callable
from typing import Any

from grokpaper.book import runner
from grokpaper.core.paths import mnist_dir
from grokpaper.core.profiles import PROFILE_NAMES


class BadInput(ValueError):
    """A value the user typed that the chosen notebooks cannot take; the message says why."""


@dataclasses.dataclass(frozen=True)
class NotebookParameters:
    """What a notebook's ``parameters`` cell declares and where the values go."""

    name: str
    defaults: dict[str, Any]  # parameters cell: name -> literal default (None if not literal)
    #: ``profiles.resolve(figure, module.Class, profile, field=name, ...)`` calls: (figures,
    #: "module:Class", {notebook parameter: dataclass field}); several figures where the call
    #: is in a loop. The class is imported only when a parameter needs it.
    resolves: list[tuple[list[str], str, dict[str, str]]]

    def field_of(self, name: str) -> tuple[type, str] | None:
        for _, where, mapping in self.resolves:
            if name in mapping:
                return _import(where), mapping[name]
        return None


def _import(where: str) -> type:
    module, _, attr = where.partition(":")
    return getattr(importlib.import_module(module), attr)


#: Types of parameters that no dataclass field describes and whose default is None.
EXTRA_TYPES: dict[str, Any] = {"data_dir": str, "threshold": float, "per_subclass": int}

#: Ranges by parameter or field name (a list applies its range to every element).
_UNIT = ("in [0, 1]", lambda x: 0 <= x <= 1)
_FRACTION = ("in [0, 1)", lambda x: 0 <= x < 1)
_OPEN_UNIT = ("in (0, 1)", lambda x: 0 < x < 1)
_POSITIVE = ("> 0", lambda x: x > 0)
_NON_NEGATIVE = (">= 0", lambda x: x >= 0)
_AT_LEAST_1 = (">= 1", lambda x: x >= 1)
_AT_LEAST_2 = (">= 2", lambda x: x >= 2)
RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    **dict.fromkeys(("f", "fs", "frac", "threshold"), _UNIT),
    **dict.fromkeys(("dropout", "dropouts", "trim"), _FRACTION),
    **dict.fromkeys(("train_frac", "train_fracs"), _OPEN_UNIT),
    **dict.fromkeys(("lr", "lrs", "emb_lrs", "lr_emb", "lr_dec", "alpha", "init_scale",
                     "init_scales", "extent", "tensor_extent", "noise"), _POSITIVE),
    **dict.fromkeys(("noises", "n_subsampled", "n_subsampled_per_class"), _NON_NEGATIVE),
    **dict.fromkeys(("p", "ps", "k", "n_evals"), _AT_LEAST_2),
}


def _choices(name: str) -> tuple[str, ...] | None:
    """Allowed values of a string parameter (looked up where they are defined)."""
    if name == "optimizer":
        from grokpaper.core.train import OPTIMIZERS
        return OPTIMIZERS
    if name == "loss":
        from grokpaper.core.train import LOSSES
        return LOSSES
    if name == "dataset":
        from grokpaper.carvalho.data import DATASETS
        return DATASETS
    if name in ("op", "ops"):
        from grokpaper.lisakib.data import OPERATIONS
        return OPERATIONS
    if name == "arch":
        from grokpaper.mnist.resnet import ARCHS
        return ARCHS
    if name == "rows":
        from grokpaper.mnist.experiments import TABLE3
        return tuple(r[0] for r in TABLE3)
    return {"model": ("mlp", "transformer"), "panels": ("a", "b", "c", "d"),
            "on": ("train", "val")}.get(name)


def _range(name: str, kind: type) -> tuple[str, Callable[[float], bool]]:
    if name in RANGES:
        return RANGES[name]
    if kind is int:
        return _NON_NEGATIVE if name.endswith("seed") else _AT_LEAST_1
    return _NON_NEGATIVE  # learning rates, weight decays, scales: never negative


def _describe(name: str, hint: Any) -> str:
    """What ``name`` takes, in words, e.g. 'a list of numbers in [0, 1], e.g. [0, 0.2]'."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    if typing.get_origin(hint) is tuple:
        elem = typing.get_args(hint)[0]
        one, choices = _describe(name, elem), _choices(name) if elem is str else None
        for a, b in (("an integer", "integers"), ("a number", "numbers"),
                     ("a string", "strings"), ("one of", "items from")):
            if one.startswith(a):
                one = b + one[len(a):]
                break
        example = json.dumps([choices[0]] if choices else {int: [100, 200], float: [0.1, 0.2],
                                                           str: ["a"]}.get(elem, []))
        text = f"a list of {one}, e.g. {name}={example.replace(' ', '')}"
    elif hint is str:
        choices = _choices(name)
        text = ("one of " + ", ".join(repr(c) for c in choices)) if choices else "a string"
    elif hint is bool:
        text = "true or false"
    elif hint in (int, float):
        word = "an integer" if hint is int else "a number"
        text = f"{word} {_range(name, hint)[0]}"
    else:
        text = f"a value of type {getattr(hint, '__name__', hint)}"
    return text + (" or null" if optional else "")


def _problem(name: str, value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit ``hint`` (and the range for ``name``), or None if it does."""
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
            if (why := _problem(name, item, elems[0])) is not None:
                return f"{item!r} is {why}" if why.startswith("not") else why
        return None
    if hint is bool:
        return None if isinstance(value, bool) else "not true or false"
    if hint is str:
        if not isinstance(value, str):
            return "not a string"
        choices = _choices(name)
        return None if choices is None or value in choices else f"{value!r} is not allowed"
    if hint in (int, float):
        numeric = (int,) if hint is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            return "not an integer" if hint is int else "not a number"
        if not math.isfinite(value):
            return f"{value!r} is not finite"
        label, ok = _range(name, hint)
        return None if ok(value) else f"{value!r} is out of range ({label})"
    return None  # a type this check does not know: left to the notebook


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for kv in value.items() for v in kv for s in _strings_in(v)]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in _strings_in(v)]
    return []


def notebook_parameters(nb: runner.Notebook) -> NotebookParameters:
    """Read ``nb``'s parameters cell and its ``profiles.resolve`` calls (nothing executes)."""
    import jupytext

    from grokpaper.core.profiles import figures as known_figures

    cells = [c for c in jupytext.read(nb.source).cells if c.cell_type == "code"]
    first = next((i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])),
                 None)
    if first is None:
        return NotebookParameters(nb.name, {}, [])
    defaults = {}
    for stmt in ast.parse(cells[first].source).body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name):
            defaults[stmt.targets[0].id] = _literal(stmt.value)
    modules: dict[str, str] = {}
    literals: dict[str, Any] = {}
    calls: list[ast.Call] = []
    for cell in cells[first + 1:]:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # cell magics and the like: nothing to learn from them
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                    stmt.targets[0], ast.Name):
                literals[stmt.targets[0].id] = _literal(stmt.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        modules[alias.asname] = alias.name
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "resolve" and isinstance(node.func.value, ast.Name)
                  and node.func.value.id == "profiles" and len(node.args) >= 2):
                calls.append(node)
    resolves = []
    for call in calls:
        fig, cls_node = call.args[0], call.args[1]
        if isinstance(fig, ast.Constant) and isinstance(fig.value, str):
            figures = [fig.value]
        elif isinstance(fig, ast.Name) and isinstance(literals.get(fig.id), str):
            figures = [literals[fig.id]]
        else:  # e.g. a loop over a dict of figures: every figure name the notebook spells out
            figures = sorted({s for v in literals.values() for s in _strings_in(v)
                              if s in known_figures()})
        if not (isinstance(cls_node, ast.Attribute) and isinstance(cls_node.value, ast.Name)
                and cls_node.value.id in modules):
            continue  # not a form this check reads: the notebook checks its own values
        mapping = {kw.value.id: kw.arg for kw in call.keywords
                   if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in defaults}
        resolves.append((figures, f"{modules[cls_node.value.id]}:{cls_node.attr}", mapping))
    return NotebookParameters(nb.name, defaults, resolves)


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def check_parameters(nb: NotebookParameters, profile: str, params: dict[str, Any]) -> None:
    """Raise :class:`BadInput` unless ``nb`` can take ``params`` (names it lacks are skipped:
    see :func:`check_run_inputs`)."""
    from grokpaper.core import profiles

    mine = {k: v for k, v in params.items() if k in nb.defaults}
    for name, value in mine.items():
        if value is None and nb.defaults[name] is None:
            continue  # null is the parameter's own default: "the profile's value"
        try:
            where = nb.field_of(name)
            hint = typing.get_type_hints(where[0]).get(where[1]) if where else None
        except (ImportError, AttributeError, NameError):
            hint = None  # the notebook will fail on its own import, with its own message
        if hint is None and nb.defaults[name] is not None:
            hint = type(nb.defaults[name]) | None
        if hint is None and name in EXTRA_TYPES:
            hint = EXTRA_TYPES[name] | None
        if hint is None:
            continue  # nothing says what it takes: the notebook will
        why = _problem(name, value, hint)
        if why is not None:
            raise BadInput(f"{nb.name}: parameter {name}={_shown(value)}: {why}; {name} takes "
                           f"{_describe(name, hint)}")
    for figures, where, mapping in nb.resolves:
        overrides = {mapping[k]: v for k, v in mine.items() if k in mapping}
        if not overrides:
            continue
        for figure in figures:
            try:
                profiles.resolve(figure, _import(where), profile, **overrides)
            except Exception as exc:
                raise BadInput(f"{nb.name}: {exc}") from exc


def _check_mnist(nb: NotebookParameters, params: dict[str, Any], explicit: bool) -> None:
    """The MNIST folder of an MNIST notebook must exist and hold readable IDX files."""
    if "data_dir" not in nb.defaults:
        return
    data_dir = params.get("data_dir")
    if data_dir is None and mnist_dir() is None and not explicit:
        return  # a whole-book run without MNIST: those pages stop with their own message
    from grokpaper.core import mnist_data as mnist  # (imports torch)

    try:
        folder = mnist.find_dir(data_dir)
        for stem, magic in zip(mnist.FILES["t10k"], (mnist.IMAGES_MAGIC, mnist.LABELS_MAGIC),
                               strict=True):
            path = mnist._locate(folder, stem)
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as fh:
                head = fh.read(4)
            if len(head) < 4 or int.from_bytes(head, "big") != magic:
                raise ValueError(f"{path} is not an MNIST IDX file (bad header)")
    except (OSError, ValueError, EOFError) as exc:
        message = " ".join(str(exc).split())
        raise BadInput(f"{nb.name}: {message}") from exc


def check_run_inputs(chosen: list[runner.Notebook], profile: str, params: dict[str, Any], *,
                     explicit: bool = True) -> None:
    """Raise :class:`BadInput` (one line) if ``params`` do not fit the ``chosen`` notebooks.

    A name must be a parameter of at least one chosen notebook (papermill hands every
    parameter to every notebook; those without it ignore it), and its value must fit each
    notebook that takes it. ``explicit``: the notebooks were named by the user (an MNIST
    notebook then needs its data even when no folder is set).
    """
    if "profile" in params:
        raise BadInput(f"set the profile with --profile (one of {', '.join(PROFILE_NAMES)}), "
                       f"not -p profile=...")
    infos = [notebook_parameters(nb) for nb in chosen]
    allowed = sorted({n for info in infos for n in info.defaults} - {"profile"})
    for name in params:
        if not any(name in info.defaults for info in infos):
            which = (f"notebook {chosen[0].name}" if len(chosen) == 1
                     else f"any of the {len(chosen)} chosen notebooks")
            raise BadInput(f"unknown parameter {name!r} for {which}; allowed: "
                           f"{', '.join(allowed) or '(none)'}")
    for info in infos:
        check_parameters(info, profile, params)
        _check_mnist(info, params, explicit)

