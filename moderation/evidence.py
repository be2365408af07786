"""Evidence a reporter attaches: checked strictly, and the image re-encoded so only its pixels remain."""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

# The snapshot a report may carry (the page's protocol states the same limits to the browser).
MAX_SNAPSHOT_BYTES = 128 * 1024
MAX_SNAPSHOT_SIDE = 1280
MIN_SNAPSHOT_SIDE = 16

SNAPSHOT_QUALITIES = (80, 60, 40, 20)

# What a browser's canvas encoder writes (toBlob('image/jpeg') in Chromium, Firefox and Safari):
# a baseline JPEG, one scan, about ten segments. Nothing else is decoded: a progressive file's cost
# grows with its scans (thousands of tiny refinement scans take seconds of CPU for 128 KiB), and an
# ordinary one costs three times a baseline decode.
MAX_SEGMENTS = 64
# A segment of quantization tables holds at most the four a decoder has room for (16-bit ones included).
MAX_QUANTIZATION_SEGMENT = 2 + 4 * (1 + 2 * 64)
SEQUENTIAL_FRAMES = (0xC0, 0xC1)  # baseline and extended sequential, Huffman-coded
KEPT_SEGMENTS = (0xDB, 0xC4, 0xDD, 0xE0, 0xEE)
# Entropy-coded data ends at the first marker that is neither a stuffed zero, a restart nor fill.
END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


class EvidenceError(Exception):
    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)
        self.message = message


UNREADABLE = _("the snapshot is not a readable JPEG image")


@dataclass(frozen=True)
class ChatLine:
    author: str  # "reporter" or "reported"
    text: str


@dataclass(frozen=True)
class SentLine:
    """A chat line as the reporter's page sends it, seen from the reporter's side."""

    side: str  # "me" (the reporter) or "stranger"
    text: str


@dataclass(frozen=True)
class SentEvidence:
    """What a reporter attaches, as received and not yet checked."""

    snapshot: bytes | None  # JPEG as sent; clean_snapshot checks and re-encodes it
    chat: tuple[SentLine, ...]


def _size_error() -> EvidenceError:
    return EvidenceError(
        format_lazy(
            _("the snapshot must be {min} to {max} pixels on each side"), min=MIN_SNAPSHOT_SIDE, max=MAX_SNAPSHOT_SIDE
        )
    )


def _coding_error() -> EvidenceError:
    return EvidenceError(_("the snapshot must be a baseline JPEG, as browsers write it"))


def decodable_stream(data: bytes) -> bytes:
    """The JPEG's segments a decoder needs, up to its end, once its structure is known to be cheap to decode.

    Walks the markers without decoding anything (linear in the bytes, a regular expression over the
    entropy-coded data), so the decoder only ever sees one 8-bit baseline frame of 1 or 3 components,
    of the allowed size, in at most one scan per component. Metadata segments (EXIF, XMP, ICC,
    comments) are left out here already.
    """
    if not data.startswith(b"\xff\xd8"):
        raise EvidenceError(UNREADABLE)
    kept = [b"\xff\xd8"]
    frame: int | None = None
    scans = segments = components = 0
    pos = 2
    while True:
        # Fill bytes (0xFF) may precede any marker.
        while data[pos : pos + 2] == b"\xff\xff":
            pos += 1
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise EvidenceError(UNREADABLE)
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:
            # A restart, a second start of image or TEM outside a scan: nothing a browser writes.
            raise _coding_error()
        if pos + 4 > len(data):
            raise EvidenceError(UNREADABLE)
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end - pos < 4 or end > len(data):
            raise EvidenceError(UNREADABLE)
        segments += 1
        if segments > MAX_SEGMENTS:
            raise _coding_error()
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if frame is not None or marker not in SEQUENTIAL_FRAMES:
                raise _coding_error()
            if end - pos < 10:
                raise EvidenceError(UNREADABLE)
            precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 4)
            if precision != 8 or components not in (1, 3):
                raise _coding_error()
            if not all(MIN_SNAPSHOT_SIDE <= side <= MAX_SNAPSHOT_SIDE for side in (width, height)):
                raise _size_error()
            frame = marker
            kept.append(data[pos:end])
        elif marker == 0xDA:
            scans += 1
            if frame is None:
                raise EvidenceError(UNREADABLE)
            # A sequential frame holds each component in exactly one scan.
            if scans > components:
                raise _coding_error()
            found = END_OF_SCAN.search(data, end)
            if found is None:
                raise EvidenceError(UNREADABLE)
            kept.append(data[pos : found.start()])
            end = found.start()
        elif marker in KEPT_SEGMENTS:
            if marker == 0xDB and end - pos - 2 > MAX_QUANTIZATION_SEGMENT:
                raise _coding_error()
            kept.append(data[pos:end])
        elif not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            # Hierarchical or arithmetic-coding tables, DNL, extensions: nothing a browser writes.
            raise _coding_error()
        pos = end
    if scans == 0:
        raise EvidenceError(UNREADABLE)
    kept.append(b"\xff\xd9")
    return b"".join(kept)


def clean_snapshot(data: bytes) -> bytes:
    """The JPEG re-encoded from its pixels alone (no EXIF, comments or ICC profile), or EvidenceError."""
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise EvidenceError(format_lazy(_("the snapshot is larger than {max} bytes"), max=MAX_SNAPSHOT_BYTES))
    stream = decodable_stream(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(stream), formats=["JPEG"]) as image:
                # Dimensions come from the header: check them before any pixel is decoded.
                width, height = image.size
                if not all(MIN_SNAPSHOT_SIDE <= side <= MAX_SNAPSHOT_SIDE for side in (width, height)):
                    raise _size_error()
                image.load()
                pixels = image if image.mode == "RGB" else image.convert("RGB")
    except EvidenceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise EvidenceError(UNREADABLE) from None
    # The decoder saw no metadata segment; what it read of the others (JFIF density, Adobe flags) goes too.
    pixels.info = {}
    # What is stored stays within the limit the reporter had to meet, whatever the picture.
    return reencode_within_limit(pixels)


def reencode_within_limit(picture: Image.Image) -> bytes:
    """The picture as a JPEG of at most MAX_SNAPSHOT_BYTES: the best quality that fits, else at half the size.

    A picture decoded from a legal file can need more bytes than it came in (coarse quantization
    re-encoded finely), so every quality may be tried; without optimize, whose second pass over the
    coefficients would double the cost of every try. Halving ends: a 16-pixel picture always fits.
    """
    while True:
        for quality in SNAPSHOT_QUALITIES:
            out = io.BytesIO()
            picture.save(out, format="JPEG", quality=quality)
            if out.tell() <= MAX_SNAPSHOT_BYTES:
                return out.getvalue()
        picture = picture.reduce(2)
