#!/usr/bin/env python3
"""Checks the internal links of README.md and of the book (docs/src/**/*.md), which mdBook
does not check: run from .ci/run after `mdbook build docs`, from anywhere.

- Every relative link (and image) points at a file that exists.
- A `#fragment` names a heading of the target (or of the same file) by the id mdBook gives it.
- A link in a chapter stays within docs/src/: the built book has nothing else, so a link out
  would be dead there. (README.md may link anywhere in the repository.)
- Every file an mdBook `{{#include …}}` names exists (it may be outside docs/src/).
- Every chapter under docs/src/ is listed in SUMMARY.md, and every entry there exists.

Heading ids follow mdBook 0.5 (mdbook-html, `utils::id_from_content` and `unique_id`): the
heading's rendered text, trimmed and lower-cased; letters, digits, `_` and `-` kept, each
whitespace character becoming `-`, everything else dropped; an id already used on the page gets
`-1`, `-2`, … (by first unused). A heading's own `{#id}` is taken as it is. The text is the
rendered text: code spans keep their content, links keep their text, emphasis marks and HTML
tags go, entities are decoded, and smart punctuation (mdBook's default) turns `--` and `---`
into dashes, which are then dropped (after the trimming, so that a space before them stays).

Python 3.11 standard library only. Exits 1 with one line per problem.
"""

import html
import re
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "docs" / "src"
SUMMARY = BOOK / "SUMMARY.md"

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HEADING_ATTRS = re.compile(r"[ \t]*\{([^{}]*)\}[ \t]*$")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*)>")
# [text](target "title") and ![alt](target); targets with spaces are written <…>
INLINE_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]"  # ! for an image, then [text]
    r"\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"  # (target, balanced parentheses
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"  # and an optional "title")
)
REFERENCE_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)", re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*\"([^\"]*)\"", re.IGNORECASE)
INCLUDE = re.compile(r"\{\{#(?:include|rustdoc_include)\s+([^}\s]+)[^}]*\}\}")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def blocks(text):
    """(line number, line, in a fenced code block) for each line."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            yield number, line, True
        elif fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not line.strip()[len(match.group(1)):].strip():
                fence = None
            yield number, line, True
        else:
            yield number, line, False


def rendered_text(source):
    """The text mdBook renders for the inline Markdown `source` (see the module's comment)."""
    parts = []
    rest = source
    while True:
        match = CODE_SPAN.search(rest)
        plain = rest if match is None else rest[: match.start()]
        # backslash escapes: kept literally, out of reach of the rules below
        plain = re.sub(r"\\([!-/:-@\[-`{-~])", lambda m: chr(0xE000 + ord(m.group(1))), plain)
        plain = INLINE_LINK.sub(lambda m: "" if m.group(1) else m.group(2), plain)
        plain = AUTOLINK.sub(lambda m: m.group(1), plain)
        plain = re.sub(r"<[^>]*>", "", plain)
        plain = re.sub(r"-{2,}", "\u2013", plain)  # smart punctuation: dashes, dropped later
        plain = re.sub(r"(?<!\w)[*_]+|[*_]+(?!\w)|~~", "", plain)
        plain = re.sub("[\uE000-\uE07F]", lambda m: chr(ord(m.group(0)) - 0xE000), plain)
        parts.append(html.unescape(plain))
        if match is None:
            break
        code = match.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]  # CommonMark strips one space on each side
        parts.append(code)
        rest = rest[match.end():]
    return "".join(parts)


def heading_id(text):
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or ch in "_-":
            out.append(ch)
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def headings(text):
    """The heading ids of a Markdown file, in order, made unique as mdBook does."""
    raw = []
    previous = None
    for _, line, code in blocks(text):
        if code:
            previous = None
            continue
        atx = ATX.match(line)
        setext = SETEXT.match(line)
        if atx:
            content = re.sub(r"[ \t]+#+$", "", atx.group(2) or "")
            raw.append(content)
            previous = None
        elif setext and previous is not None and previous.strip() \
                and not previous.startswith(("    ", "\t", "|", "- ", "* ", "> ")):
            raw.append(previous.strip())
            previous = None
        else:
            previous = line if line.strip() else None
    used, ids = set(), []
    for content in raw:
        attrs = HEADING_ATTRS.search(content)
        given = None
        if attrs:
            content = content[: attrs.start()]
            given = next((a[1:] for a in attrs.group(1).split() if a.startswith("#")), None)
        if given is not None:
            used.add(given)
            ids.append(given)
            continue
        base = heading_id(rendered_text(content))
        candidate, counter = base, 0
        while candidate in used:
            counter += 1
            candidate = f"{base}-{counter}"
        used.add(candidate)
        ids.append(candidate)
    return ids


_anchors = {}


def anchors(path):
    if path not in _anchors:
        _anchors[path] = set(headings(path.read_text(encoding="utf-8")))
    return _anchors[path]


def paragraphs(text):
    """(first line number, text) of each run of lines outside fenced code between blank lines,
    and of each fenced code line alone, with whether it is code: links and code spans may run
    over line breaks."""
    run, first = [], None
    for number, line, code in blocks(text):
        if code or not line.strip():
            if run:
                yield first, "\n".join(run), False
                run = []
            if code:
                yield number, line, True
            continue
        if not run:
            first = number
        run.append(line)
    if run:
        yield first, "\n".join(run), False


def links(text):
    """(line number, kind, target) of every link, image and include of a Markdown file."""
    for first, chunk, code in paragraphs(text):
        if code:
            for match in INCLUDE.finditer(chunk):
                yield first, "include", match.group(1)
            continue
        outside_code = CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), chunk)

        def line_of(match):
            return first + outside_code.count("\n", 0, match.start())

        for match in INCLUDE.finditer(outside_code):
            yield line_of(match), "include", match.group(1)
        for match in INLINE_LINK.finditer(outside_code):
            target = match.group(3)
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            yield line_of(match), "image" if match.group(1) else "link", target
        for match in REFERENCE_DEF.finditer(outside_code):
            target = match.group(2)
            yield line_of(match), "link", target[1:-1] if target.startswith("<") else target
        for match in HTML_LINK.finditer(outside_code):
            yield line_of(match), "link", match.group(1)


def relative(path):
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def check_file(path, problems):
    text = path.read_text(encoding="utf-8")
    in_book = BOOK in path.parents
    for number, kind, target in links(text):
        where = f"{relative(path)}:{number}"
        if kind == "include":
            file = (path.parent / target.split(":", 1)[0]).resolve()
            if not file.is_file():
                problems.append(f"{where}: {{{{#include {target}}}}}: no file {relative(file)}")
            continue
        if not target or SCHEME.match(target) or target.startswith("//"):
            continue
        target_path, _, fragment = target.partition("#")
        target_path = unquote(target_path)
        if target_path.startswith("/"):
            problems.append(f"{where}: {target}: an absolute path; link relative to this file")
            continue
        file = (path.parent / target_path).resolve() if target_path else path
        if not file.exists():
            problems.append(f"{where}: {target}: no file {relative(file)}")
            continue
        if in_book and BOOK not in file.parents and file != BOOK:
            problems.append(
                f"{where}: {target}: outside docs/src, so dead in the built book; "
                "name the file in `code` instead, or {{#include}} it"
            )
            continue
        if fragment:
            if file.is_dir() or file.suffix != ".md":
                problems.append(f"{where}: {target}: a #fragment on a file that has no headings")
            elif unquote(fragment) not in anchors(file):
                known = ", ".join(sorted(anchors(file))) or "none"
                problems.append(
                    f"{where}: {target}: {relative(file)} has no heading with the id "
                    f"'{fragment}' (it has: {known})"
                )


def check_summary(problems):
    listed = set()
    for number, kind, target in links(SUMMARY.read_text(encoding="utf-8")):
        if kind != "link" or not target:
            continue
        file = (BOOK / unquote(target.partition("#")[0])).resolve()
        listed.add(file)
    for file in sorted(BOOK.rglob("*.md")):
        if file != SUMMARY and file.resolve() not in listed:
            problems.append(f"{relative(file)}: a chapter that SUMMARY.md does not list")


def main():
    problems = []
    files = [ROOT / "README.md"] + sorted(BOOK.rglob("*.md"))
    for file in files:
        check_file(file, problems)
    check_summary(problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} broken link(s) or unlisted chapter(s)")
        return 1
    print(f"ok: the links of {len(files)} files, and SUMMARY.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
