"""Evidence a reporter attaches: checked strictly, and the image re-encoded so only its pixels remain."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from meet.protocol import MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_SIDE, MIN_SNAPSHOT_SIDE

SNAPSHOT_QUALITIES = (80, 60, 40, 20)


class EvidenceError(Exception):
    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ChatLine:
    author: str  # "reporter" or "reported"
    text: str


def clean_snapshot(data: bytes) -> bytes:
    """The JPEG re-encoded from its pixels alone (no EXIF, comments or ICC profile), or EvidenceError."""
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise EvidenceError(format_lazy(_("the snapshot is larger than {max} bytes"), max=MAX_SNAPSHOT_BYTES))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                # Dimensions come from the header: check them before any pixel is decoded.
                width, height = image.size
                if not all(MIN_SNAPSHOT_SIDE <= side <= MAX_SNAPSHOT_SIDE for side in (width, height)):
                    raise EvidenceError(
                        format_lazy(
                            _("the snapshot must be {min} to {max} pixels on each side"),
                            min=MIN_SNAPSHOT_SIDE,
                            max=MAX_SNAPSHOT_SIDE,
                        )
                    )
                image.load()
                pixels = image.convert("RGB")
    except EvidenceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise EvidenceError(_("the snapshot is not a readable JPEG image")) from None
    clean = Image.frombytes("RGB", pixels.size, pixels.tobytes())
    # What is stored stays within the limit the reporter had to meet, whatever the picture.
    for quality in SNAPSHOT_QUALITIES:
        out = io.BytesIO()
        clean.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_SNAPSHOT_BYTES:
            break
    return out.getvalue()
