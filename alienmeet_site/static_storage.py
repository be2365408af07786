"""Static files with content hashes in their names, compressed once at `collectstatic`."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed names (cached for a year by WhiteNoise and nginx) plus .gz copies.

    The call page is ES modules importing each other by relative path, so those imports are
    rewritten to the hashed names too: otherwise a cached old module could meet a new one.
    """

    support_js_module_import_aggregation = True

    def stored_name(self, name: str) -> str:
        # Before the first `collectstatic` (the test suite, a quick run with debug off) there is
        # no manifest: link the plain names, which WhiteNoise serves from the source folders,
        # rather than fail every page. Once a manifest exists, a missing entry is an error.
        if not self.hashed_files:
            return name
        return super().stored_name(name)
