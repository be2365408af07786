"""JPEG files written byte by byte: what Pillow's encoder will not write (scan scripts of our choosing)."""

from __future__ import annotations

import io
import struct

from PIL import Image

from moderation.evidence import MAX_SEGMENTS, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_SIDE

SOI, EOI = b"\xff\xd8", b"\xff\xd9"


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


class BitWriter:
    """Entropy-coded bits, MSB first, 0xFF stuffed with a zero and the last byte padded with ones."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.byte = 0
        self.used = 0

    def put(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.byte = (self.byte << 1) | ((value >> shift) & 1)
            self.used += 1
            if self.used == 8:
                self.out += b"\xff\x00" if self.byte == 0xFF else bytes((self.byte,))
                self.byte = self.used = 0

    def bytes(self) -> bytes:
        if self.used:
            self.put((1 << (8 - self.used)) - 1, 8 - self.used)
        return bytes(self.out)


def one_symbol_table(table_class: int, symbol: int) -> bytes:
    """A Huffman table holding one symbol, coded as the single bit 0."""
    return segment(0xC4, bytes((table_class << 4,)) + bytes((1,) + (0,) * 15) + bytes((symbol,)))


def _end_of_bands(blocks: int) -> bytes:
    # One EOB14 run (16,384 to 32,767 blocks) ends the band in every block of the scan at once.
    bits = BitWriter()
    bits.put(0, 1)
    bits.put(blocks - (1 << 14), 14)
    return bits.bytes()


def refinement_scans(refinements: int, side: int = MAX_SNAPSHOT_SIDE) -> bytes:
    """A grey progressive JPEG whose every AC refinement scan covers the whole image in three bytes.

    Each scan costs the decoder a pass over every block (about 2 ms at 1280x1280) for 13 bytes of file:
    the 128 KiB limit holds over 10,000 of them, seconds of CPU.
    """
    blocks = ((side + 7) // 8) ** 2
    assert 1 << 14 <= blocks < 1 << 15, "one EOB run must cover the image"
    out = bytearray(SOI)
    out += segment(0xDB, b"\x00" + b"\x01" * 64)
    out += segment(0xC2, struct.pack(">BHHB", 8, side, side, 1) + bytes((1, 0x11, 0)))
    out += one_symbol_table(0, 0x00) + one_symbol_table(1, 0xE0)
    dc = BitWriter()
    for _ in range(blocks):
        dc.put(0, 1)  # every DC difference is zero
    out += segment(0xDA, bytes((1, 1, 0x00, 0, 0, 0x00))) + dc.bytes()
    out += segment(0xDA, bytes((1, 1, 0x00, 1, 63, 0x01))) + _end_of_bands(blocks)
    for _ in range(refinements):
        out += segment(0xDA, bytes((1, 1, 0x00, 1, 63, 0x10))) + _end_of_bands(blocks)
    return bytes(out + EOI)


def largest_refinement_attack() -> bytes:
    """The attack file: as many refinement scans as fit in the snapshot limit (about 10,600)."""
    fixed, per_scan = len(refinement_scans(0)), len(refinement_scans(1)) - len(refinement_scans(0))
    return refinement_scans((MAX_SNAPSHOT_BYTES - fixed) // per_scan)


def noise(side: int = MAX_SNAPSHOT_SIDE) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise((side, side), 120) for _ in range(3)])


def coarse_noise_band(progressive: bool, source: Image.Image | None = None) -> tuple[int, bytes]:
    """The tallest band of noise over a 1280x1280 grey picture that still fits the limit, full-colour (4:4:4),
    every coefficient quantized by 255: the decoder does the most work a legal file allows, and the re-encoding
    blows up past the limit at high qualities, so every quality is tried. Returns (band height, file)."""
    source = source or noise()
    best = (0, b"")
    for height in range(160, MAX_SNAPSHOT_SIDE + 1, 80):
        picture = Image.new("RGB", source.size, (128, 128, 128))
        picture.paste(source.crop((0, 0, source.width, height)), (0, 0))
        out = io.BytesIO()
        picture.save(out, format="JPEG", qtables=[[255] * 64] * 2, subsampling=0, progressive=progressive)
        if out.tell() > MAX_SNAPSHOT_BYTES:
            break
        best = (height, out.getvalue())
    return best


def browser_like(width: int = 640, height: int = 480, quality: int = 92) -> bytes:
    """What a canvas toBlob('image/jpeg', 0.92) gives for a camera frame: baseline, JFIF, 4:2:0, about 90 KB."""
    grain = Image.effect_noise((width, height), 12).convert("RGB")
    light = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    frame = Image.blend(grain, light, 0.5)
    out = io.BytesIO()
    frame.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def padded_with_tables(picture: bytes) -> bytes:
    """A legal file with all the segments it may have left, each four 16-bit quantization tables (the most
    a segment may hold): the decoder and Pillow parse every one."""
    tables = segment(0xDB, b"".join(bytes((0x10 | index,)) + b"\x00\x10" * 64 for index in range(4)))
    room = MAX_SEGMENTS - picture.count(b"\xff\xc4") - picture.count(b"\xff\xdb") - 4  # JFIF, frame, scan
    return picture[:2] + tables * room + picture[2:]


def flat(side: int = MAX_SNAPSHOT_SIDE, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (90, 120, 150)).save(out, format="JPEG", quality=80, **options)
    return out.getvalue()


def restart_every_block(source: Image.Image | None = None) -> bytes:
    """The noise band again, with a restart marker after every block: the most restarts a file can hold."""
    source = source or noise()
    best = b""
    for height in range(80, MAX_SNAPSHOT_SIDE + 1, 80):
        picture = Image.new("RGB", source.size, (128, 128, 128))
        picture.paste(source.crop((0, 0, source.width, height)), (0, 0))
        out = io.BytesIO()
        picture.save(out, format="JPEG", qtables=[[255] * 64] * 2, subsampling=0, restart_marker_blocks=1)
        if out.tell() > MAX_SNAPSHOT_BYTES:
            break
        best = out.getvalue()
    return best
