"""Headless Chromium for the browser tests (the report's and the user study's): Debian's ``chromium`` with its
``chromium-driver``, driven by selenium, never a downloaded driver.

Without chromium/chromedriver (or selenium) the calling test skips with the reason; with
``VSRBENCH_REQUIRE_BROWSER=1`` (set by .ci/run) that is a failure instead, so CI cannot pass without them.
"""
from __future__ import annotations

import os
import shutil
from typing import Iterable, Mapping

import pytest

__all__ = ["BROWSERS", "missing", "chromium"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HEADLESS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--force-device-scale-factor=1")


def missing(reason: str):
    """Skip the calling test with ``reason``, or fail it when CI requires the browser."""
    if os.environ.get("VSRBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"VSRBENCH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium(window: str, extra_args: Iterable[str] = (), prefs: Mapping | None = None):
    """A headless Chromium of window size ``window`` (``"1280,1000"``), device scale 1, the console log kept."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed (pip install -e '.[dev]')")
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    chromedriver = shutil.which("chromedriver")
    if browser is None or chromedriver is None:
        missing("no chromium/chromedriver on PATH (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (*HEADLESS, f"--window-size={window}", *extra_args):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", dict(prefs))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=Service(chromedriver))  # the given driver: no download
    d.set_page_load_timeout(60)
    return d
