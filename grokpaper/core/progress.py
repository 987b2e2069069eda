"""Progress bars where a person watches, and none in batch logs.

A person watches a terminal (stderr is a TTY) or a Jupyter frontend. In a notebook kernel stderr
is never a TTY, so the kernel's request tells the two apart: a frontend (JupyterLab, Notebook,
VS Code) lets the code ask for input (``allow_stdin``), while nbclient, and so papermill,
``grokpaper run``, nbval and Jupyter Book's execution, does not. There the bar is tqdm's
notebook widget (with ipywidgets; else tqdm's text bar, which a notebook shows as well).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from tqdm import tqdm


def kernel_allows_input() -> bool | None:
    """In an IPython kernel: whether the request being executed allows ``input()`` (a person's
    frontend); None outside a kernel (a script, a terminal IPython)."""
    ipython = sys.modules.get("IPython")  # loaded in every kernel; never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return None
    parent = kernel.get_parent() or {}  # ipykernel >= 6: the request being executed
    return bool(parent.get("content", {}).get("allow_stdin", False))


def bar_kind(*, tty: bool, kernel_input: bool | None, widgets: bool) -> str | None:
    """Which bar to show: "notebook" (a widget), "text" (tqdm on stderr) or None (batch).

    ``tty``: stderr is a terminal; ``kernel_input``: see :func:`kernel_allows_input`;
    ``widgets``: ipywidgets can be imported.
    """
    if kernel_input:
        return "notebook" if widgets else "text"
    if kernel_input is None and tty:
        return "text"
    return None  # a batch run: papermill, nbval, CI logs, a pipe


def current_bar_kind() -> str | None:
    """:func:`bar_kind` for this process, now."""
    return bar_kind(tty=sys.stderr.isatty(), kernel_input=kernel_allows_input(),
                    widgets=importlib.util.find_spec("ipywidgets") is not None)


def progress_bar(*, show: bool | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar (``kwargs`` as tqdm's) of the kind this process calls for; ``show`` forces a
    text bar (True) or none (False)."""
    kind = current_bar_kind() if show is None else ("text" if show else None)
    if kind == "notebook":
        # tqdm's widget bar imports ipywidgets: only in a kernel that shows it.
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm(**kwargs)
    return tqdm(**kwargs, disable=kind is None)
