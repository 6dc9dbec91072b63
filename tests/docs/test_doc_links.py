"""Every document the code and the docs cite is in the repository, and so is every section
they cite: a Markdown link (``[text](docs/rules.md#the-rules)``), a path named in a
docstring or a comment (``docs/platform.md``), a numbered section
(``docs/architecture.md section 5``; in code a path from the repository's root, or a
bare ``README.md``-style name) or a titled one (``docs/platform.md "REST"``; a
heading ``REST (`POST /api/...`)`` answers to its title before the parenthesis).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: folders whose files may cite documents (the rest is tooling: .venv, build output)
SOURCES = ("bench", "cli", "daemon", "docs", "engine", "rulesets", "schemas", "sim", "tests",
           ".ci")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".lark", ".json", ".txt", ""}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PATH = re.compile(r"(?<![\w/.#-])((?:[\w.-]+/)*[\w-]+\.md)(#[\w-]+)?\b")
NUMBERED = re.compile(r"((?:[\w.-]+/)*[\w-]+\.md)'?s?,?\s+sections?\s+(\d+)")
TITLED = re.compile(r"((?:[\w.-]+/)*[\w-]+\.md)'?s?,?\s+\"([^\"\n]+)\"")


def cited_files() -> list[Path]:
    files = [p for p in ROOT.iterdir() if p.is_file() and p.suffix in SUFFIXES]
    for folder in SOURCES:
        base = ROOT / folder
        if base.is_dir():
            files += [p for p in base.rglob("*") if p.is_file() and p.suffix in SUFFIXES
                      and "__pycache__" not in p.parts and "__snapshots__" not in p.parts]
    return sorted(files)


@cache
def headings(document: Path) -> tuple[list[str], set[str]]:
    """A Markdown file's heading texts and their GitHub anchors."""
    return parse_headings(document.read_text(encoding="utf-8"))


def parse_headings(text: str) -> tuple[list[str], set[str]]:
    titles: list[str] = []
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*$", line)
        if match is None:
            continue
        title = match.group(1)
        titles.append(title)
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        seen = counts.get(slug, 0)
        counts[slug] = seen + 1
        anchors.add(slug if seen == 0 else f"{slug}-{seen}")
    return titles, anchors


def resolve(citing: Path, target: str) -> Path | None:
    """The document (or folder: rulesets/examples/) ``target`` names, from the citing
    file's folder or the repository's root (code cites paths from the root)."""
    for base in (citing.parent, ROOT):
        candidate = (base / target).resolve()
        if candidate.exists() and candidate.is_relative_to(ROOT):
            return candidate
    return None


def problems_in(path: Path, text: str | None = None) -> list[str]:
    """What ``path`` (or ``text``, as if it were that file) cites that does not exist."""
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    where = path.relative_to(ROOT)
    found: list[str] = []

    def line(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def check(offset: int, target: str, anchor: str | None) -> Path | None:
        document = resolve(path, target)
        if document is None:
            found.append(f"{where}:{line(offset)}: {target} is not in the repository")
            return None
        if anchor and document.suffix == ".md" and anchor not in headings(document)[1]:
            found.append(f"{where}:{line(offset)}: {target} has no section #{anchor}")
        return document

    if path.suffix == ".md":
        for match in LINK.finditer(text):
            target = match.group(1)
            if re.match(r"[a-z]+:", target) or target.startswith("<"):
                continue  # a URL, not a file of ours
            file_part, _, anchor = target.partition("#")
            if not file_part:
                if anchor not in parse_headings(text)[1]:
                    found.append(f"{where}:{line(match.start())}: no section #{anchor}")
                continue
            check(match.start(), file_part, anchor or None)
    for match in PATH.finditer(text):
        target, anchor = match.group(1), match.group(2)
        if path.suffix != ".md" and "/" not in target and not target[:-3].isupper():
            continue  # in code, a file name (tmp_path / "x.md"), not a path cited
        check(match.start(), target, anchor[1:] if anchor else None)
    for match in NUMBERED.finditer(text):
        document = resolve(path, match.group(1))
        number = match.group(2)
        if document is not None and not any(
                re.match(rf"{number}\.\s", title) for title in headings(document)[0]):
            found.append(f"{where}:{line(match.start())}: {match.group(1)} has no section "
                         f"{number}")
    for match in TITLED.finditer(text):
        document = resolve(path, match.group(1))
        title = match.group(2)
        if document is not None and document.suffix == ".md" and not any(
                heading == title or heading.startswith(title + " (")
                for heading in headings(document)[0]):
            found.append(f"{where}:{line(match.start())}: {match.group(1)} has no section "
                         f"\"{title}\"")
    return list(dict.fromkeys(found))


def test_every_cited_document_and_section_exists() -> None:
    problems = [problem for path in cited_files() if path != Path(__file__).resolve()
                for problem in problems_in(path)]
    assert not problems, "\n".join(problems)


def test_the_code_cites_the_docs() -> None:
    """The check above looks where the citations are."""
    cited = {match.group(1) for path in cited_files()
             for match in PATH.finditer(path.read_text(encoding="utf-8", errors="replace"))}
    assert {"docs/architecture.md", "docs/platform.md", "docs/rules.md"} <= cited


@pytest.mark.parametrize("citation, problem", [
    ("see DESIGN.md section 4", "DESIGN.md is not in the repository"),
    ("see docs/architecture.md section 42", "docs/architecture.md has no section 42"),
    ('see docs/platform.md "Pitfals"', 'docs/platform.md has no section "Pitfals"'),
    ("[rules](docs/rules.md#no-such-part)", "docs/rules.md has no section #no-such-part"),
    ("[gone](docs/gone.md)", "docs/gone.md is not in the repository"),
])
def test_a_broken_citation_is_found(citation: str, problem: str) -> None:
    found = problems_in(ROOT / "docs" / "probe.md", citation)
    assert any(problem in p for p in found), found


def test_good_citations_pass() -> None:
    text = ('docs/architecture.md section 5; docs/platform.md "REST"; '
            "[rules](rules.md#the-rules); [sim](../sim/README.md); [up](#top)\n# top\n")
    assert problems_in(ROOT / "docs" / "probe.md", text) == []
