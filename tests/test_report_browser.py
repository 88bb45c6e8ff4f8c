"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven
by selenium opens ``index.html`` from disk and checks what a reader does: the page loads without console
errors, a click on a metric's header re-sorts the leaderboard, a key press flips the viewer's main panel to
the next method, a click on a curve point opens that frame, and zoom and pan apply to every panel at once.
The viewer shows native pixels: at device pixel ratios 1, 1.5 and 2 (emulated) each image is drawn at its own
pixel size divided by the ratio, the screenshot of a panel is the stored frame pixel for pixel (1x) or each
pixel repeated as a 2x2 block (2x, pixelated), and the stored frame is the GT frame's full size.
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
from _support.browser import chromium
from _support.report_data import NOISE, make_results

from vsrbench.cli import main
from vsrbench.core.io import decode_image
from vsrbench.visual.report import load_embedded

@pytest.fixture(scope="module")
def driver():
    d = chromium("1280,2000", ["--force-color-profile=srgb"])
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
    page.find_element("id", "zoom-in").click()  # one zoom for every panel: 2x, each pixel a 2x2 block
    sizes = page.execute_script(
        "return Array.from(document.querySelectorAll('#viewer .panel img')).map(i => "
        "[i.getBoundingClientRect().width, i.getBoundingClientRect().height, getComputedStyle(i).imageRendering])")
    assert len(sizes) == 1 + 1 + len(NOISE) and all(s == [128, 96, "pixelated"] for s in sizes), sizes
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


def image_rects(d) -> list[dict]:
    """Every viewer panel's image: its natural size, its box and its panel's box (CSS pixels), its rendering."""
    return d.execute_script("""
        return Array.from(document.querySelectorAll('#viewer .panel')).map(function (p) {
          var i = p.querySelector('img'), b = i.getBoundingClientRect(), q = p.getBoundingClientRect();
          return {name: p.dataset.name || 'main', natural: [i.naturalWidth, i.naturalHeight],
                  left: b.left - q.left, top: b.top - q.top, width: b.width, height: b.height,
                  pw: q.width, ph: q.height, rendering: getComputedStyle(i).imageRendering, src: i.src};
        });""")


def shown_pixels(d, selector: str, shape: tuple[int, ...]) -> list[np.ndarray]:
    """What the screen shows in a panel: the viewport's screenshot (device pixels; labels and the crop box
    hidden) cut at the panel's place, ``shape`` large. The browser puts a box at a fractional place on whole
    device pixels, rounding either way: the nine cuts around that place."""
    import io

    from PIL import Image

    img = d.find_element("css selector", selector)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                     "document.querySelectorAll('#viewer .label, #crop-box').forEach(function (e) { "
                     "e.style.visibility = 'hidden'; })", img)
    left, top, ratio = d.execute_script("var b = arguments[0].getBoundingClientRect(); "
                                        "return [b.left, b.top, window.devicePixelRatio]", img)
    screen = np.asarray(Image.open(io.BytesIO(d.get_screenshot_as_png())).convert("RGB"))
    x0, y0 = round(left * ratio), round(top * ratio)
    h, w = shape[:2]
    return [screen[y:y + h, x:x + w] for y in (y0 - 1, y0, y0 + 1) for x in (x0 - 1, x0, x0 + 1)]


def assert_shown(d, selector: str, expected: np.ndarray) -> None:
    """The panel ``selector`` shows ``expected`` pixel for pixel (one of the nine cuts of :func:`shown_pixels`)."""
    cuts = shown_pixels(d, selector, expected.shape)
    matches = [c.shape == expected.shape and np.array_equal(c, expected) for c in cuts]
    closest = min(float(np.abs(c.astype(int) - expected).mean()) if c.shape == expected.shape else 1e9 for c in cuts)
    assert any(matches), f"the screen does not show the frame's pixels (mean |difference| {closest:.2f})"


@pytest.fixture(params=[1, 1.25, 1.5, 2], ids=lambda r: f"ratio{r}")
def ratio_page(request, driver, site):
    """The page under an emulated devicePixelRatio (as a HiDPI screen or the browser's zoom makes it)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 2000, "deviceScaleFactor": request.param, "mobile": False})
    driver.get(site.joinpath("index.html").as_uri())
    driver.get_log("browser")
    driver.get(site.joinpath("index.html").as_uri())
    assert driver.find_element("tag name", "body").get_attribute("data-ready") == "1"
    yield driver, request.param
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_viewer_shows_native_pixels(ratio_page, site, tmp_path):
    d, ratio = ratio_page
    assert d.execute_script("return window.devicePixelRatio") == ratio
    data = load_embedded(site / "index.html")
    entry = data["viewer"]["GT"]["city"]
    frame = entry["frames"][0]
    gt = decode_image(site.parents[0] / "GT" / "city" / f"{frame:03d}.png")  # the dataset's own GT frame
    stored = decode_image(site / entry["panels"]["GT"][0])
    assert stored.shape == gt.shape and entry["size"] == [gt.shape[1], gt.shape[0]] == [64, 48]
    np.testing.assert_array_equal(stored, gt)  # stored lossless at full resolution
    rects = image_rects(d)
    assert len(rects) == 1 + 1 + len(NOISE)
    for r in rects:  # 1x: CSS size x devicePixelRatio = the image's own pixels (never stretched to the panel)
        assert r["natural"] == [64, 48], r
        # Chromium lays out in 1/64 CSS px (LayoutUnit) and paints on whole device pixels
        assert r["width"] * ratio == pytest.approx(64, abs=ratio / 64), r
        assert r["height"] * ratio == pytest.approx(48, abs=ratio / 64), r
        assert (r["left"] * ratio) == pytest.approx(round(r["left"] * ratio), abs=ratio / 64), r  # whole pixels
    # integer ratios: the screen shows the frame itself, no pixel resampled (at a fractional one a panel's place
    # on the page, e.g. 1141.27 CSS px x 1.25, is no whole device pixel and Chromium may repeat or drop a row at
    # its edge, so only the sizes above are checked there)
    exact = ratio == round(ratio)
    if exact:
        assert_shown(d, "#main-panel", gt)
        b_frame = decode_image(site / entry["panels"]["B"][0])  # side by side: method B's crop, its own pixels
        assert_shown(d, "#panels .panel[data-name='B']", b_frame)
    d.find_element("css selector", "button.zoom-level[data-zoom='2']").click()
    for r in image_rects(d):  # 2x: twice as large, nearest neighbour
        assert r["width"] * ratio == pytest.approx(128, abs=ratio / 64) and r["rendering"] == "pixelated", r
    if exact:
        assert_shown(d, "#main-panel", gt.repeat(2, axis=0).repeat(2, axis=1))  # each pixel a 2x2 block
    d.find_element("css selector", "button.zoom-level[data-zoom='1']").click()
    assert {r["rendering"] for r in image_rects(d)} == {"pixelated"}  # no blur where layout rounds
    assert all(r["width"] * ratio == pytest.approx(64, abs=ratio / 64) for r in image_rects(d))
    problems = [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems
    if ratio == 2:
        keep(d.find_element("id", "viewer").screenshot_as_png, "report-viewer-ratio2.png", tmp_path)


def centre_point(r: dict, zoom: int, ratio: float) -> tuple[float, float]:
    """The image pixel (x, y) at the centre of a panel."""
    return ((r["pw"] / 2 - r["left"]) * ratio / zoom, (r["ph"] / 2 - r["top"]) * ratio / zoom)


def test_dragging_pans_every_panel_alike(page, site):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    Select(page.find_element("id", "crop-size")).select_by_value("192x144")
    page.find_element("css selector", "button.zoom-level[data-zoom='8']").click()  # 512x384 in 192x144 crops
    crops = [r for r in image_rects(page) if r["name"] != "main"]
    assert all((r["pw"], r["ph"], r["width"]) == (192, 144, 512) for r in crops), crops
    assert {centre_point(r, 8, 1) for r in crops} == {(32, 24)}  # the frame's centre in every crop
    panel = page.find_element("css selector", "#panels .panel[data-name='B']")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel)
    ActionChains(page).move_to_element(panel).click_and_hold().move_by_offset(40, 24).release().perform()
    crops = [r for r in image_rects(page) if r["name"] != "main"]
    # grabbed and moved 40x24 screen pixels at 8x: the region moved 5x3 image pixels up-left, in every crop
    assert {centre_point(r, 8, 1) for r in crops} == {(27, 21)}, crops
    view = page.execute_script("return window.vsrbenchView()")
    assert (view["zoom"], view["cx"], view["cy"]) == (8, 27, 21)
    main = next(r for r in image_rects(page) if r["name"] == "main")
    assert (main["pw"], main["ph"], main["width"]) == (512, 384, 512)  # the main panel shows all of it at 8x
    box = page.find_element("id", "crop-box").rect  # and draws where the crops are
    assert (box["width"], box["height"]) == (192, 144)
    assert page.execute_script("return document.getElementById('main-img').dataset.method") == "GT"  # a drag is no click
    # what crop B shows: B's frame, each pixel 8x8, the 192x144 window whose centre is image pixel (27, 21)
    entry = load_embedded(site / "index.html")["viewer"]["GT"]["city"]
    big = decode_image(site / entry["panels"]["B"][0]).repeat(8, axis=0).repeat(8, axis=1)
    assert_shown(page, "#panels .panel[data-name='B']", big[21 * 8 - 72:21 * 8 + 72, 27 * 8 - 96:27 * 8 + 96])
    # a click on the main panel (it shows the whole frame) centres the crops on the pixel clicked: (40, 30)
    main_panel = page.find_element("id", "main-panel")
    ActionChains(page).move_to_element_with_offset(main_panel, 40 * 8 + 4 - 256, 30 * 8 + 4 - 192).click().perform()
    view = page.execute_script("return window.vsrbenchView()")
    assert (view["cx"], view["cy"]) == (40.5, 30.5)
    crops = [r for r in image_rects(page) if r["name"] != "main"]
    assert {centre_point(r, 8, 1) for r in crops} == {(40.5, 30.5)}  # 40.5 -> the window from pixel 28.5 on
    page.find_element("id", "zoom-out").click()
    assert page.execute_script("return window.vsrbenchView().zoom") == 4
    page.find_element("tag name", "body").send_keys("0")  # back to native pixels
    assert {(r["width"], r["rendering"]) for r in image_rects(page)} == {(64, "pixelated")}
