from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from articles.loader import problems


@register("articles")
def check_articles(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report every article file that the site cannot show."""
    return [
        Error(
            f"Article {problem.name} cannot be shown: "
            + (f"field {problem.field!r} {problem.message}" if problem.field else problem.message),
            hint=f"Fix {problem.path}; until then {problem.url} answers 404.",
            obj=str(problem.path),
            id="articles.E001",
        )
        for problem in problems()
    ]
