"""Screenshots of the vigil dashboard for `make demo`: headless Chromium driven by selenium.

Used two ways:
- from scripts/netns_demo.py: ``Camera.open(url, user, password)`` once, then
  ``camera.shoot(name, until=CSS)`` at each moment of the story;
- from scripts/demo.sh: ``python scripts/dashboard_shots.py URL USER PASSWORD
  NAME [CSS]`` takes one picture.

Debian's chromium and chromium-driver (scripts/system-deps.sh) are used as
installed: selenium-manager is kept offline, no driver is downloaded. Without
them ``Camera.open`` returns None and says why; the demo goes on without pictures.
Pictures go to docs/img/dashboard-NAME.png (the README shows them).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
OUT = Path(__file__).resolve().parent.parent / "docs" / "img"


class Camera:
    """One logged-in browser on one dashboard."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @classmethod
    def open(cls, url: str, user: str, password: str) -> Camera | None:
        """A browser logged in at URL; None (with the reason printed) when it cannot be."""
        if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
            print("   (no screenshots: chromium and chromium-driver are not installed; "
                  "scripts/system-deps.sh installs them as root)", flush=True)
            return None
        os.environ["SE_OFFLINE"] = "true"  # never let selenium-manager fetch anything
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            print("   (no screenshots: selenium is not installed: make venv)", flush=True)
            return None
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1200,1000", "--hide-scrollbars",
                    "--force-device-scale-factor=1"):
            options.add_argument(arg)
        try:
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        except Exception as e:  # a broken browser must not break the demo
            print(f"   (no screenshots: chromium did not start: {str(e).splitlines()[0]})",
                  flush=True)
            return None
        camera = cls(driver)
        try:
            driver.get(url)
            driver.find_element("id", "user").send_keys(user)
            driver.find_element("id", "password").send_keys(password)
            driver.find_element("id", "login").click()
            camera.wait("tr[data-node]", 15)
        except Exception as e:
            print(f"   (no screenshots: could not log in to {url}: {e})", flush=True)
            camera.close()
            return None
        return camera

    def wait(self, css: str, timeout_s: float = 10) -> bool:
        """Until an element matching CSS is on the page; False after TIMEOUT_S."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.driver.find_elements("css selector", css):
                return True
            time.sleep(0.05)
        return False

    def shoot(self, name: str, until: str | None = None) -> Path | None:
        """docs/img/dashboard-NAME.png, once UNTIL (a CSS selector) matches."""
        if until is not None and not self.wait(until):
            print(f"   (screenshot {name}: the page never showed {until})", flush=True)
        time.sleep(0.3)  # let the last snapshot paint
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"dashboard-{name}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1200, min(max(int(height) + 40, 800), 2400))
        self.driver.save_screenshot(str(path))
        print(f"   screenshot: {path.relative_to(OUT.parent.parent)}", flush=True)
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.quit()


def main(argv: list[str]) -> int:
    if len(argv) not in (4, 5):
        print("usage: dashboard_shots.py URL USER PASSWORD NAME [CSS]", file=sys.stderr)
        return 2
    url, user, password, name = argv[:4]
    camera = Camera.open(url, user, password)
    if camera is None:
        return 0
    try:
        camera.shoot(name, argv[4] if len(argv) == 5 else None)
    finally:
        camera.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
