"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven
by selenium opens ``index.html`` from disk and checks what a reader does: the page loads without console
errors, a click on a metric's header re-sorts the leaderboard, a key press flips the viewer's main panel to
the next method, a click on a curve point opens that frame, and zoom applies to every panel at once.
Screenshots of the leaderboard and the viewer are kept: under the test's tmp_path, and copied into the
folder named by ``VSRBENCH_ARTIFACTS`` when it is set (CI keeps them).

Without chromium/chromedriver (or selenium) the tests skip with the reason; with
``VSRBENCH_REQUIRE_BROWSER=1`` (set by .ci/run) that is a failure instead, so CI cannot pass without them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from _support.report_data import NOISE, make_results

from vsrbench.cli import main
from vsrbench.core.io import decode_image

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _missing(reason: str):
    if os.environ.get("VSRBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"VSRBENCH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[dev]')")
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    chromedriver = shutil.which("chromedriver")
    if browser is None or chromedriver is None:
        _missing("no chromium/chromedriver on PATH (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=Service(chromedriver))  # the given driver: no download
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report_browser")
    res = make_results(root)
    out = root / "site"
    assert main(["report", str(res), "--out", str(out)]) == 0
    return out


@pytest.fixture
def page(driver, site):
    driver.get(site.joinpath("index.html").as_uri())
    driver.get_log("browser")  # start each test with an empty log
    driver.get(site.joinpath("index.html").as_uri())
    assert driver.find_element("tag name", "body").get_attribute("data-ready") == "1"
    return driver


def keep(png: bytes, name: str, tmp_path: Path) -> Path:
    """Write a screenshot under tmp_path (and VSRBENCH_ARTIFACTS when set); check it is a real image."""
    path = tmp_path / name
    path.write_bytes(png)
    img = decode_image(path)
    assert img.shape[0] > 50 and img.shape[1] > 200 and img.std() > 5, img.shape  # not blank
    folder = os.environ.get("VSRBENCH_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(folder) / name)
    return path


def method_order(d) -> list[str]:
    return [tr.get_attribute("data-method") for tr in d.find_elements("css selector", "table.leaderboard tbody tr")]


def viewer_state(d) -> tuple[str, str, str]:
    img = d.find_element("id", "main-img")
    return img.get_attribute("data-method"), img.get_attribute("data-frame"), img.get_attribute("src")


def test_the_page_loads_without_console_errors(page, tmp_path):
    log = page.get_log("browser")
    problems = [e for e in log if e["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems
    assert page.execute_script("return document.querySelectorAll('svg.curve').length") == 2 * 3  # 2 seqs x 3 metrics
    assert page.execute_script("return document.getElementById('main-img').naturalWidth") == 64  # the PNG loaded
    keep(page.find_element("id", "leaderboard").screenshot_as_png, "report-leaderboard.png", tmp_path)


def test_clicking_a_column_header_re_sorts_the_table(page):
    assert method_order(page) == list(NOISE)  # run order: B, A, C
    header = page.find_element("css selector", "th.sortable[data-col='0']")  # PSNR, higher is better
    header.click()
    assert method_order(page) == ["A", "C", "B"]
    header.click()  # again: worst first
    assert method_order(page) == ["B", "C", "A"]
    page.find_element("css selector", "th.sortable[data-col='2']").click()  # tOF, lower is better: best first
    assert method_order(page) == ["A", "C", "B"]
    values = [float(td.get_attribute("data-value"))
              for td in page.find_elements("css selector", "table.leaderboard tbody tr td:nth-of-type(3)")]
    assert values == sorted(values)


def test_a_key_press_shows_the_next_method(page, tmp_path):
    from selenium.webdriver.common.keys import Keys

    body = page.find_element("tag name", "body")
    method, frame, src = viewer_state(page)
    assert method == "GT" and src.endswith(f"/{int(frame):05d}.png")
    body.send_keys(Keys.ARROW_RIGHT)
    method2, frame2, src2 = viewer_state(page)
    assert (method2, frame2) == ("B", frame) and src2 != src and "-b/" in src2
    body.send_keys("k")
    assert viewer_state(page)[0] == "A"
    body.send_keys("j")
    body.send_keys("j")
    assert viewer_state(page)[0] == "GT"
    body.send_keys(Keys.ARROW_LEFT)  # wraps around to the last method
    assert viewer_state(page)[0] == "C"
    assert page.execute_script("return document.getElementById('main-img').naturalWidth") == 64
    page.find_element("id", "zoom-in").click()  # one zoom for every panel
    transforms = page.execute_script(
        "return Array.from(document.querySelectorAll('#viewer .panel img')).map(i => i.style.transform)")
    # zoomed about the centre: the offset is in % of each image, so panels of any size show the same region
    assert len(transforms) == 1 + 1 + len(NOISE) and len(set(transforms)) == 1
    assert transforms[0] == "translate(-50%, -50%) scale(2)", transforms[0]
    keep(page.find_element("id", "viewer").screenshot_as_png, "report-viewer.png", tmp_path)


def test_clicking_a_curve_point_opens_that_frame(page):
    assert page.find_element("id", "frame-indicator").get_attribute("data-frame") == "2"
    point = page.find_element(
        "css selector", "svg.curve[data-sequence='walk'][data-metric='psnr'] circle.has-frame[data-method='C'][data-frame='4']")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", point)
    point.click()
    method, frame, src = viewer_state(page)
    assert (method, frame) == ("C", "4") and "walk" in src and src.endswith("/00004.png")
    indicator = page.find_element("id", "frame-indicator")
    assert indicator.get_attribute("data-frame") == "4" and "walk, frame 4" in indicator.text
    select = page.find_element("id", "seq-select")
    assert select.get_attribute("value").endswith("walk")
    assert page.execute_script("return document.getElementById('main-img').naturalWidth") == 64
    assert not [e for e in page.get_log("browser") if e["level"] == "SEVERE"]


def test_dragging_pans_every_panel_alike(page):
    from selenium.webdriver.common.action_chains import ActionChains

    page.find_element("id", "zoom-in").click()
    panel = page.find_element("id", "main-panel")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    before = page.find_element("id", "main-img").value_of_css_property("transform")
    ActionChains(page).move_to_element(panel).click_and_hold().move_by_offset(40, 20).release().perform()
    transforms = page.execute_script(
        "return Array.from(document.querySelectorAll('#viewer .panel img')).map(i => i.style.transform)")
    assert len(set(transforms)) == 1 and transforms[0] != "translate(-50%, -50%) scale(2)", transforms
    assert page.find_element("id", "main-img").value_of_css_property("transform") != before
