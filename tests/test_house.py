"""The house keeps the shape docs/architecture.md describes: dependencies run one way."""

from __future__ import annotations

from tools.house import figures

# What each package may import of the project (docs/architecture.md); anything else is a new arrow
# that the page must show first.
ALLOWED = {
    "alienmeet_site": {"articles", "callstats", "matchmaking", "meet", "moderation", "transport", "turn"},
    "meet": {"articles", "callstats", "matchmaking", "moderation", "transport", "turn"},
    "callstats": {"matchmaking", "moderation", "transport"},
    "moderation": {"transport"},
    "matchmaking": {"transport"},
    "turn": set(),
    "articles": set(),
    "transport": set(),
}


def test_no_two_packages_import_each_other():
    assert figures(None)["both_ways"] == []


def test_each_package_imports_only_what_the_architecture_page_shows():
    house = figures(None)
    assert set(house["lines"]) == set(ALLOWED), "a package was added or removed: describe it in docs/architecture.md"
    for source, target in house["edges"]:
        assert target in ALLOWED[source], f"{source} imports {target}"
