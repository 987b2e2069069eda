"""Sphinx fixes for the built site, checked by scripts/check_site.py in a real browser.

sphinx-thebe (always loaded by Jupyter Book 1.x) adds its inline configuration script twice,
and a second ``const THEBE_JS_URL`` is a JavaScript SyntaxError on every page: keep the first
copy of every script.
"""

from __future__ import annotations

from typing import Any


def _key(js: Any) -> tuple:
    attributes = getattr(js, "attributes", {}) or {}
    # Inline scripts come with filename None or "" depending on who added them.
    return str(getattr(js, "filename", js) or ""), tuple(sorted(attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:  # noqa: ANN001
    seen: set[tuple] = set()
    unique = []
    for js in context.get("script_files", []):
        if _key(js) not in seen:
            seen.add(_key(js))
            unique.append(js)
    context["script_files"] = unique


def setup(app) -> dict:  # noqa: ANN001
    # Last, after the extensions that add scripts while a page is rendered.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
