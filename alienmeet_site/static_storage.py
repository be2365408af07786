"""Static files with content hashes in their names, compressed once at `collectstatic`."""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("alienmeet.static")


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed names (cached for a year by WhiteNoise and nginx) plus .gz copies.

    The call page is ES modules importing each other by relative path, so those imports are
    rewritten to the hashed names too: otherwise a cached old module could meet a new one.
    """

    support_js_module_import_aggregation = True

    def stored_name(self, name: str) -> str:
        # Before the first `collectstatic` (the test suite, a quick run with debug off) there is
        # no manifest, and after a deploy that skipped it a new file is missing from it. Either
        # way link the plain name, which WhiteNoise serves from the source folders, rather than
        # fail the page.
        if not self.hashed_files:
            return name
        try:
            return super().stored_name(name)
        except ValueError:
            logger.warning("event=static_not_collected name=%s (run collectstatic)", name)
            return name
