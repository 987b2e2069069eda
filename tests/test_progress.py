"""Progress bars where a person watches (a terminal, a Jupyter frontend), none in batch logs
(papermill, nbval, CI): the decision, and what a real kernel reports under each client."""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
from tqdm import tqdm

from grokpaper.core import progress


@pytest.mark.parametrize(("tty", "kernel_input", "widgets", "kind"), [
    (True, None, False, "text"),  # a terminal
    (False, None, True, None),  # a script whose stderr goes to a log or a pipe
    (False, True, True, "notebook"),  # JupyterLab, Notebook, VS Code
    (False, True, False, "text"),  # the same without ipywidgets: tqdm's text bar
    (False, False, True, None),  # papermill, grokpaper run, nbval, jupyter-book execution
    (True, False, True, None),  # the same started from a terminal
])
def test_bar_kind(tty, kernel_input, widgets, kind):
    assert progress.bar_kind(tty=tty, kernel_input=kernel_input, widgets=widgets) == kind


def test_outside_a_kernel_bars_follow_the_terminal():
    assert progress.kernel_allows_input() is None
    assert progress.progress_bar(total=3).disable  # pytest captures stderr: not a terminal
    assert not progress.progress_bar(total=3, show=True).disable
    assert progress.progress_bar(total=3, show=False).disable
    assert type(progress.progress_bar(total=3, show=True)) is tqdm


PROBE = "from grokpaper.core import progress\nprint(progress.kernel_allows_input(), " \
        "progress.current_bar_kind())"


def _run_in_kernel(allow_stdin: bool) -> str:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", extra_arguments=[
        "--IPKernelApp.log_level=ERROR"])
    try:
        out: list[str] = []
        kc.execute_interactive(PROBE, allow_stdin=allow_stdin, timeout=120,
                               output_hook=lambda msg: out.append(
                                   msg["content"].get("text", "")))
        return "".join(out).strip()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_frontend_gets_a_bar_a_batch_client_does_not(tmp_path):
    widgets = importlib.util.find_spec("ipywidgets") is not None
    # A person's frontend sends allow_stdin=True with each request.
    assert _run_in_kernel(True) == f"True {'notebook' if widgets else 'text'}"
    # papermill (nbclient, which grokpaper run and Jupyter Book execute with too) does not.
    import papermill

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    out = papermill.execute_notebook(str(path), str(path), kernel_name="python3",
                                     progress_bar=False)
    assert "".join(o.get("text", "") for o in out.cells[0].outputs).strip() == "False None"


def test_notebook_bar_is_tqdms_widget(monkeypatch):
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as notebook_tqdm

    monkeypatch.setattr(progress, "current_bar_kind", lambda: "notebook")
    bar = progress.progress_bar(total=2, desc="runs")
    assert isinstance(bar, notebook_tqdm)
    assert bar.total == 2
    bar.close()
