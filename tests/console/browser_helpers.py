"""The browser tests' tools: Debian's Chromium (never a downloaded browser), a page that
records every console error, the screenshots, and the accessibility checks run in the page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Page

#: Where Debian's chromium package puts the browser (`apt-get install -y chromium`).
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium() -> str | None:
    found = [shutil.which(name) for name in CHROMIUM_NAMES]
    return next((f for f in found if f), None)


def screenshot_dir(fallback: Path) -> Path:
    """`IDDS_SCREENSHOT_DIR` if set (the README's screenshot is made so), else `fallback`."""
    chosen = Path(os.environ.get("IDDS_SCREENSHOT_DIR") or fallback)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


#: In the page: inputs without a label, the h1 count, and whether "µg" appears anywhere.
AUDIT_JS = """() => {
  const fields = [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden');
  return {
    unlabelled: fields.filter(e => !e.labels || e.labels.length === 0)
      .map(e => e.name || e.id || e.outerHTML.slice(0, 60)),
    h1: document.querySelectorAll('h1').length,
    micro: /[µμ]g/.test(document.body.innerText),
  };
}"""


def assert_page_accessible(page: Page) -> None:
    audit = page.evaluate(AUDIT_JS)
    assert audit["unlabelled"] == [], (page.url, audit["unlabelled"])
    assert audit["h1"] == 1, (page.url, audit["h1"])
    assert not audit["micro"], page.url
