"""Checks that every relative link in README.md and docs/*.md names an existing file and, with a
#fragment, a heading of that file (GitHub's anchors). Run by scripts/test.sh; needs no build."""

import pathlib
import re
import sys

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def anchors(path):
    """The anchors GitHub gives the headings of a markdown file."""
    seen, out = {}, set()
    for title in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def main(root):
    root = pathlib.Path(root)
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    broken, checked = [], 0
    for page in pages:
        text = CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            checked += 1
            file, _, fragment = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.relative_to(root)}: {target}: no such file")
            elif fragment and (dest.suffix != ".md" or fragment not in anchors(dest)):
                broken.append(f"{page.relative_to(root)}: {target}: no such heading")
    for line in broken:
        print(line, file=sys.stderr)
    if broken:
        raise SystemExit(f"{len(broken)} broken links")
    print(f"links: {checked} relative links in {len(pages)} pages resolve")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
