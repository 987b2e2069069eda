"""Open every page of the built book in headless Chromium and fail on what a reader would see.

Checks, per page: console errors, uncaught JavaScript errors, requests that failed, images
that did not load, any request to an outside host (the site must work offline), and Markdown or
TeX source left in the page's visible text (its title, navigation and body, code blocks left
out): the pipes of a Markdown table, ``\\(``, ``\\_``, ``$$``, a TeX command. Saves a screenshot
of the landing page. Exit status 1 lists every problem, one per line, with the page and a
snippet of the text.

    python scripts/check_site.py [book/_build/html] [--screenshot build/site/landing.png]
                                 [--screenshots build/site/pages]

``--screenshots DIR`` also saves a full-page screenshot of every page (``DIR/<page>.png``): look
at each before calling the book done.

Needs the `playwright` Python package (the `check` extra) and a Chromium: ``--browser``,
``$CHROMIUM``, a ``chromium``/``chromium-browser``/``google-chrome`` on PATH (e.g. Debian's
``apt install chromium``), or playwright's own (``playwright install chromium``, online).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

#: Theme pages that are not chapters (search needs a server for its index on some browsers).
SKIP = {"search.html", "genindex.html"}
#: Redirects followed per page (index.html -> the landing page).
REDIRECTS = 3
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Source that a reader should never see, as (what it is, pattern on the visible text). Markdown
#: outputs of a notebook are rendered as CommonMark, which has no tables and no math: a table or
#: ``$x$`` displayed that way reaches the page as its source. Smart quotes turn ``---`` into
#: dashes, hence the dash classes.
SOURCE = (
    ("Markdown table source", re.compile(
        r"\|(?:[ \t]*:?[-\u2013\u2014]+:?[ \t]*\|){2,}"  # |---|---| (separator row)
        r"|(?:^|[ \t])\|[ \t][^|\n]+[ \t]\|[ \t][^|\n]+[ \t]\|", re.M)),  # | x | y |
    ("TeX source", re.compile(
        r"\\[()\[\]_]"  # \( \) \[ \] \_
        r"|\$\$"  # display math delimiters
        r"|\\[A-Za-z]{2,}"  # a command: \lambda, \text, \mathbb
        r"|[_^]\{")),  # a braced sub- or superscript
    # $x$: no space inside either dollar, as TeX's inline math (so "$5 or $10" is not)
    ("TeX math in dollars", re.compile(r"(?<![\w$])\$[^\s$](?:[^$\n]{0,200}[^\s$])?\$(?![\w$])")),
)
#: Snippet shown per problem: this many characters on either side of the match.
CONTEXT = 40

#: The text a reader sees: the title, then the body as rendered (hidden elements and the code
#: blocks, which show source on purpose, left out). MathJax must have typeset the page already.
VISIBLE_TEXT_JS = """() => {
    const blocks = [...document.querySelectorAll('pre')];
    const shown = blocks.map(b => b.style.display);
    blocks.forEach(b => { b.style.display = 'none'; });
    // A redirecting page (index.html) can be caught without a body.
    const text = document.title + '\\n' + (document.body?.innerText ?? '');
    blocks.forEach((b, i) => { b.style.display = shown[i]; });
    return text;
}"""


def find_browser(given: str | None) -> str | None:
    """The Chromium to drive; None lets playwright use its own download."""
    for candidate in (given, os.environ.get("CHROMIUM"), *map(shutil.which, BROWSERS)):
        if candidate:
            return candidate
    return None


def pages(site: Path) -> list[Path]:
    """Every HTML page of the site, landing page first, theme assets left out."""
    found = sorted(p for p in site.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts and p.name not in SKIP)
    return sorted(found, key=lambda p: p != site / "index.html")


def source_problems(text: str) -> list[str]:
    """Markdown or TeX source in ``text``: one problem per kind, with its first snippet."""
    problems: dict[str, str] = {}
    for what, pattern in SOURCE:
        found = list(pattern.finditer(text))
        if found and what not in problems:
            m = found[0]
            snippet = " ".join(text[max(0, m.start() - CONTEXT):m.end() + CONTEXT].split())
            problems[what] = f"{what} ({len(found)}x), e.g. ...{snippet}..."
    return list(problems.values())


def check_page(page, url: str) -> list[str]:  # page: playwright.sync_api.Page
    """Problems seen while loading ``url``."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console error: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("request", lambda r: problems.append(f"outside host: {r.url}")
            if r.url.startswith(("http://", "https://")) else None)
    from playwright.sync_api import Error

    page.goto(url)
    for attempt in range(REDIRECTS + 1):
        try:
            page.wait_for_load_state("load")
            # MathJax typesets after load: wait for it (evaluate awaits the promise).
            page.evaluate("() => window.MathJax?.startup?.promise?.then(() => true) ?? true")
            broken = page.evaluate("""() => [...document.images]
                .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)""")
            text = page.evaluate(VISIBLE_TEXT_JS)
            break
        except Error as exc:
            # Jupyter Book's index.html is a meta-refresh redirect to the landing page: the
            # page navigated while we looked at it; look again at where it went.
            if "context was destroyed" not in str(exc) or attempt == REDIRECTS:
                raise
    problems += [f"broken image: {src}" for src in broken]
    return problems + source_problems(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", default="book/_build/html", type=Path)
    ap.add_argument("--screenshot", default="build/site/landing.png", type=Path)
    ap.add_argument("--screenshots", type=Path, metavar="DIR",
                    help="also save a full-page screenshot of every page under DIR")
    ap.add_argument("--browser", help="Chromium executable (default: see module docstring)")
    args = ap.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"check_site: no index.html under {args.site}; build the book first "
              "(make book)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    failures = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_browser(args.browser),
                                     args=["--no-sandbox"])
        all_pages = pages(args.site)
        for path in all_pages:
            page = browser.new_page()
            problems = check_page(page, path.resolve().as_uri())
            if path == args.site / "index.html":
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshot), full_page=True)
            if args.screenshots is not None:
                name = path.relative_to(args.site).with_suffix(".png").as_posix()
                shot = args.screenshots / name.replace("/", "__")
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
            page.close()
            failures += len(problems)
            for p in problems:
                print(f"{path.relative_to(args.site)}: {p}")
        browser.close()
    print(f"check_site: {len(all_pages)} pages, {failures} problem(s); landing page screenshot "
          f"in {args.screenshot}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
