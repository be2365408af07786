"""Render the app icons (static/img/icons/*.svg) to the PNG sizes the web app manifest lists.

Run after editing an SVG: `.venv/bin/python scripts/render_icons.py`. Chromium draws them, so the
PNGs look exactly as the browser shows the SVGs; the PNGs are committed.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "img" / "icons"
# (source, size, output): "any" icons keep their transparent corners, maskable ones are full bleed.
RENDERS = [
    ("icon.svg", 192, "icon-192.png"),
    ("icon.svg", 512, "icon-512.png"),
    ("maskable.svg", 192, "maskable-192.png"),
    ("maskable.svg", 512, "maskable-512.png"),
    ("maskable.svg", 180, "apple-touch-icon.png"),
]


def main() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for source, size, output in RENDERS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (ICONS / source).read_text(encoding="utf-8")
            page.set_content(
                f"<style>html,body{{margin:0;background:transparent}}svg{{display:block;width:{size}px;"
                f"height:{size}px}}</style>{svg}"
            )
            png = page.screenshot(omit_background=True)
            page.close()
            image = Image.open(io.BytesIO(png))
            assert image.size == (size, size), (output, image.size)
            image.save(ICONS / output, optimize=True)
            print(f"{output}: {size}x{size}")
        browser.close()


if __name__ == "__main__":
    main()
