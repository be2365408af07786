"""``manage.py makemessages`` for this site: the same files scanned and the same catalog layout for everyone.

Vendored libraries, collected static files and tests hold no string of ours; catalogs carry no
source locations, so moving a line of code never changes a ``.po`` file.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemessages

IGNORED = ["static/vendor/*", "staticfiles/*", "node_modules/*", "artifacts/*", "tests/*", "bench/*", "locale/*"]


class Command(makemessages.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = list(options.get("ignore_patterns") or []) + IGNORED
        options["no_location"] = True
        options["no_obsolete"] = True
        super().handle(*args, **options)
