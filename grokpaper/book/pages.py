"""What the runner adds to an executed notebook before it becomes a page: parameter cells
folded (or removed on the landing page), and a warning box when the store met damage.
"""

from __future__ import annotations

import re

import nbformat

#: How the store reports damage in a kernel (a warning on stderr, see grokpaper.core.store).
_DAMAGE = re.compile(r"DamagedResultWarning: (.+)")


def damage_found(node: nbformat.NotebookNode) -> tuple[str, ...]:
    """The damage the store reported while ``node`` ran, one line each, in order."""
    found: list[str] = []
    for cell in node.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found += [m.group(1).strip() for m in _DAMAGE.finditer(out.get("text", ""))]
    return tuple(dict.fromkeys(found))


def note_damage(node: nbformat.NotebookNode, damage: tuple[str, ...]) -> None:
    """Put the damage on the page, under its title: the kernel's warning sits in a hidden cell."""
    items = "\n".join(f"- `{line}`" for line in damage)
    note = nbformat.v4.new_markdown_cell(
        f"```{{warning}}\nThe result store held {len(damage)} damaged or misplaced file(s) "
        f"for this page. None was used: each was moved aside; results were recomputed, so the "
        f"page shows fresh ones (a damaged verdict file shows its chapter as *not run* until "
        f"the chapter runs again). Details (also in the store's `damaged.log`):"
        f"\n\n{items}\n```")
    note.metadata["tags"] = ["grokpaper-damage"]
    at = next((i + 1 for i, c in enumerate(node.cells) if c.cell_type == "markdown"), 0)
    node.cells.insert(at, note)


def fold_parameters(node: nbformat.NotebookNode, *, remove: bool) -> None:
    """Fold the parameter cells (ours and papermill's injected record) on the page: they stay
    one click away as provenance; the landing page (the summary) drops them."""
    for cell in node.cells:
        tags = cell.metadata.setdefault("tags", [])
        if {"parameters", "injected-parameters"} & set(tags):
            tags.append("remove-cell" if remove else "hide-cell")
