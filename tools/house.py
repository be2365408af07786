"""The house in figures: lines per package, the largest module, and the imports between packages.

    .venv/bin/python tools/house.py            # the working tree
    .venv/bin/python tools/house.py <commit>   # any commit, read from git without checking it out

Counts every line of the Python files under each top-level package (migrations included, tests not),
and the imports written in them (``import x`` and ``from x import y``, at any depth of the file).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALL_PAGE = "static/js/call.js"
GIT = shutil.which("git") or "/usr/bin/git"


def git(*args: str) -> str:
    return subprocess.run([GIT, *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout  # noqa: S603


def files_at(commit: str | None) -> dict[str, str]:
    if commit is None:
        names = git("ls-files").split() + git("ls-files", "--others", "--exclude-standard").split()
        return {
            name: (ROOT / name).read_text(encoding="utf-8")
            for name in names
            if _counted(name) and (ROOT / name).exists()
        }
    names = git("ls-tree", "-r", "--name-only", commit).split()
    return {name: git("show", f"{commit}:{name}") for name in names if _counted(name)}


def _counted(name: str) -> bool:
    return name == CALL_PAGE or (
        name.endswith(".py") and "/" in name and not name.startswith(("tests/", "bench/", "tools/", "scripts/"))
    )


def imported_modules(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def figures(commit: str | None) -> dict[str, object]:
    files = files_at(commit)
    packages = {name.split("/")[0] for name in files if name.endswith("/__init__.py") and name.count("/") == 1}
    lines: Counter[str] = Counter()
    largest = ("", 0)
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for name, text in files.items():
        if not name.endswith(".py"):
            continue
        package = name.split("/")[0]
        if package not in packages:
            continue
        count = len(text.splitlines())
        lines[package] += count
        if "/migrations/" not in name and count > largest[1]:
            largest = (name, count)
        for module in imported_modules(text):
            target = module.split(".")[0]
            if target in packages and target != package:
                edges[(package, target)] += 1
    both_ways = sorted({tuple(sorted(pair)) for pair in edges if (pair[1], pair[0]) in edges})
    return {
        "lines": dict(lines.most_common()),
        "total": sum(lines.values()),
        "largest": largest,
        "edges": dict(sorted(edges.items())),
        "both_ways": both_ways,
        "call_js": len(files.get(CALL_PAGE, "").splitlines()),
    }


def main() -> None:
    commit = sys.argv[1] if len(sys.argv) > 1 else None
    result = figures(commit)
    print(f"house at {commit or 'the working tree'}")
    print(f"{'package':<16}{'lines':>7}")
    for package, count in result["lines"].items():
        print(f"{package:<16}{count:>7}")
    print(f"{'all':<16}{result['total']:>7}")
    print(f"largest module: {result['largest'][0]} ({result['largest'][1]} lines)")
    print(f"imports between packages: {sum(result['edges'].values())} in {len(result['edges'])} directions")
    for (source, target), count in result["edges"].items():
        print(f"  {source} -> {target}: {count}")
    print(f"package pairs importing each other: {len(result['both_ways'])} {result['both_ways']}")
    print(f"{CALL_PAGE}: {result['call_js']} lines")


if __name__ == "__main__":
    main()
