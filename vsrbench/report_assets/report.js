// vsrbench report: sortable leaderboard, per-frame curves (inline SVG), synchronised viewer.
// Plain JavaScript, no framework, nothing fetched: the data is the JSON block of index.html.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("vsrbench-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";  // the SVG namespace name (an identifier, never fetched)

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  // ---------------------------------------------------------------- leaderboard sorting
  // Click a metric header: best first (by the metric's direction); click again: reversed.
  // Holes ("–") stay last. Per-sequence tables sort within each sequence block.
  document.querySelectorAll("table.leaderboard").forEach(function (table) {
    var tbody = table.tBodies[0];
    var lead = table.tHead.rows[0].cells.length - table.querySelectorAll("th.sortable").length;
    table.querySelectorAll("th.sortable").forEach(function (th) {
      th.addEventListener("click", function () {
        var col = Number(th.dataset.col) + lead;
        var best = th.dataset.higher === "1" ? -1 : 1;
        var dir = th.dataset.sorted === "best" ? -best : best;
        table.querySelectorAll("th.sortable").forEach(function (h) { delete h.dataset.sorted; h.classList.remove("asc", "desc"); });
        th.dataset.sorted = dir === best ? "best" : "worst";
        th.classList.add(dir < 0 ? "desc" : "asc");
        var groups = {};  // a per-sequence table keeps its blocks in place (first appearance)
        var rows = Array.prototype.map.call(tbody.rows, function (r, i) {
          var g = lead > 1 ? r.cells[0].textContent : "";
          if (!(g in groups)) groups[g] = i;
          return { row: r, i: i, g: groups[g], v: r.cells[col].dataset.value };
        });
        rows.sort(function (a, b) {
          if (a.g !== b.g) return a.g - b.g;
          if (a.v === "" || b.v === "") return (a.v === "") - (b.v === "") || a.i - b.i;
          return dir * (Number(a.v) - Number(b.v)) || a.i - b.i;
        });
        rows.forEach(function (o) { tbody.appendChild(o.row); });
      });
    });
  });

  // ---------------------------------------------------------------- viewer
  // Native pixels. Every image is drawn at (its pixels x zoom / devicePixelRatio) CSS pixels, so that at 1x
  // one image pixel covers one device pixel, and placed at whole device pixels; zoom is an integer (2x, 4x,
  // 8x: nearest neighbour, image-rendering: pixelated). A panel is a window onto its image, never a frame it
  // is stretched to. Every panel shows the same region: the image point (cx, cy) at its centre.
  var ZOOMS = [1, 2, 4, 8];
  var CROPS = { "192x144": [192, 144], "256x192": [256, 192], "384x288": [384, 288] };
  var state = { ds: null, seq: null, index: 0, method: 0, zoom: 1, cx: 0, cy: 0, crop: "256x192" };
  var seqSelect = document.getElementById("seq-select");
  var frameSelect = document.getElementById("frame-select");
  var cropSelect = document.getElementById("crop-size");
  var mainPanel = document.getElementById("main-panel");
  var mainWrap = document.getElementById("main-wrap");
  var mainImg = document.getElementById("main-img");
  var mainLabel = document.getElementById("main-label");
  var cropBox = document.getElementById("crop-box");
  var indicator = document.getElementById("frame-indicator");
  var pixelNote = document.getElementById("pixel-note");
  var panelsBox = document.getElementById("panels");

  function entry() { return (DATA.viewer[state.ds] || {})[state.seq]; }
  function names() { var e = entry(); return e ? Object.keys(e.panels) : []; }
  function mainChoices() {  // the main panel flips between the methods (GT first)
    return names();
  }
  function ratio() { return window.devicePixelRatio || 1; }
  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }
  function pixels(img) {  // the image's own size in pixels (the recorded frame size until it has loaded)
    if (img && img.naturalWidth > 0 && img.getAttribute("src")) return [img.naturalWidth, img.naturalHeight];
    var e = entry();
    return e ? e.size : [1, 1];
  }

  Object.keys(DATA.viewer).forEach(function (ds) {
    Object.keys(DATA.viewer[ds]).forEach(function (seq) {
      var o = el("option", { value: ds + "\u0000" + seq }, ds + " / " + seq);
      seqSelect.appendChild(o);
    });
  });

  // the crops' size in device pixels (at most the zoomed image)
  function cropDevice(size) {
    var r = ratio(), z = state.zoom, c = CROPS[state.crop];
    var w = size[0] * z, h = size[1] * z;
    if (!c) return [Math.min(w, Math.floor(mainWrap.clientWidth * r)), h];
    return [Math.min(w, Math.round(c[0] * r)), Math.min(h, Math.round(c[1] * r))];
  }
  // the main panel's size in device pixels: the zoomed image, at most the page's width and 80 % of its height
  function mainDevice(size) {
    var r = ratio(), z = state.zoom;
    var maxH = Math.max(240, Math.floor(0.8 * window.innerHeight));
    return [Math.min(size[0] * z, Math.floor(mainWrap.clientWidth * r)), Math.min(size[1] * z, Math.floor(maxH * r))];
  }
  // the centre kept where the crops can show it
  function clampCentre() {
    var size = pixels(document.querySelector("#panels img") || mainImg), c = cropDevice(size);
    var hx = c[0] / 2 / state.zoom, hy = c[1] / 2 / state.zoom;
    state.cx = clamp(state.cx, Math.min(hx, size[0] / 2), Math.max(size[0] - hx, size[0] / 2));
    state.cy = clamp(state.cy, Math.min(hy, size[1] / 2), Math.max(size[1] - hy, size[1] / 2));
  }
  // one axis of a window of `view` device pixels onto an image of `extent` device pixels centred on `centre`
  function offset(view, extent, centre) {
    if (extent <= view) return Math.floor((view - extent) / 2);
    return clamp(Math.round(view / 2 - centre * state.zoom), view - extent, 0);
  }
  // CSS pixels for `device` device pixels, rounded up to Chromium's layout unit (1/64 px): at a ratio such as
  // 1.5 the exact size (64 / 1.5) is not a layout size, and one a hair smaller would drop a pixel
  function css(device) { return Math.ceil(device / ratio() * 64 - 1e-6) / 64 + "px"; }
  // size the panel's window to `view` and place its image: whole device pixels, zoom x its own pixels
  function place(panel, img, view) {
    var r = ratio(), z = state.zoom, size = pixels(img);
    panel.style.width = css(view[0]);
    panel.style.height = css(view[1]);
    var left = offset(view[0], size[0] * z, state.cx), top = offset(view[1], size[1] * z, state.cy);
    img.style.width = css(size[0] * z);
    img.style.height = css(size[1] * z);
    img.style.left = css(left);
    img.style.top = css(top);
    img.dataset.left = String(left);  // device pixels
    img.dataset.top = String(top);
    panel.dataset.zoom = String(z);
    panel.dataset.fits = String(size[0] * z <= view[0] && size[1] * z <= view[1]);
    return [left, top, Math.min(view[0], size[0] * z), Math.min(view[1], size[1] * z)];
  }

  function layout() {
    if (!entry()) return;
    clampCentre();
    var r = ratio(), size = pixels(mainImg);
    var m = place(mainPanel, mainImg, mainDevice(size));
    var c = null;
    panelsBox.querySelectorAll(".panel").forEach(function (p) {
      var img = p.querySelector("img");
      var got = place(p, img, cropDevice(pixels(img)));
      if (c === null) c = got;
    });
    // the crops' region drawn on the main panel, when the main panel shows more than the crops do
    if (c && (c[2] < m[2] || c[3] < m[3])) {
      cropBox.style.display = "block";
      cropBox.style.left = css(m[0] - c[0]);
      cropBox.style.top = css(m[1] - c[1]);
      cropBox.style.width = css(c[2]);
      cropBox.style.height = css(c[3]);
    } else {
      cropBox.style.display = "none";
    }
    document.querySelectorAll("button.zoom-level").forEach(function (b) {
      b.classList.toggle("active", Number(b.dataset.zoom) === state.zoom);
      b.setAttribute("aria-pressed", String(Number(b.dataset.zoom) === state.zoom));
    });
    pixelNote.textContent = "Zoom " + state.zoom + "×, device pixel ratio " + r + ": the " + size[0] + "×" + size[1] +
      " frame is drawn " + size[0] * state.zoom + "×" + size[1] * state.zoom + " device pixels.";
  }

  function setSrc(img, s) {  // only on change: setting the same src again may load it again
    if (!s) { if (img.getAttribute("src")) img.removeAttribute("src"); return; }
    if (img.getAttribute("src") !== s) img.setAttribute("src", s);
  }

  function render() {
    var e = entry();
    if (!e) { indicator.textContent = "no frames to show"; return; }
    var frame = e.frames[state.index];
    frameSelect.value = String(state.index);
    var choices = mainChoices();
    state.method = ((state.method % choices.length) + choices.length) % choices.length;
    var shown = choices[state.method];
    setSrc(mainImg, e.panels[shown][state.index]);
    mainImg.alt = shown + ", frame " + frame;
    mainLabel.textContent = shown;
    mainLabel.style.color = DATA.colors[shown] || "#000";
    mainImg.dataset.method = shown;
    mainImg.dataset.frame = String(frame);
    indicator.textContent = state.ds + " / " + state.seq + ", frame " + frame + " — main panel: " + shown +
      " (" + (state.method + 1) + "/" + choices.length + ")";
    indicator.dataset.frame = String(frame);
    panelsBox.querySelectorAll(".panel").forEach(function (p) {
      setSrc(p.querySelector("img"), e.panels[p.dataset.name][state.index]);
      p.classList.toggle("current", p.dataset.name === shown);
    });
    layout();
  }

  function chooseSequence(ds, seq) {
    state.ds = ds; state.seq = seq;
    var e = entry();
    seqSelect.value = ds + "\u0000" + seq;
    frameSelect.innerHTML = "";
    panelsBox.innerHTML = "";
    if (!e) return;
    state.cx = e.size[0] / 2; state.cy = e.size[1] / 2;
    e.frames.forEach(function (f, i) { frameSelect.appendChild(el("option", { value: String(i) }, String(f))); });
    names().forEach(function (name, i) {
      var p = el("div", { "class": "panel crop", "data-name": name });
      var img = el("img", { alt: name, draggable: "false" });
      img.addEventListener("load", layout);
      p.appendChild(img);
      var label = el("span", { "class": "label" }, name);
      label.style.color = DATA.colors[name] || "#000";
      p.appendChild(label);
      p.addEventListener("click", function () { if (!moved) { state.method = i; render(); } });
      attachPanZoom(p);
      panelsBox.appendChild(p);
    });
    if (state.index >= e.frames.length) state.index = 0;
    render();
  }

  // open (ds, seq) at the written frame nearest to `frame`; returns the frame shown
  function openFrame(ds, seq, frame) {
    if (state.ds !== ds || state.seq !== seq) { state.index = 0; chooseSequence(ds, seq); }
    var e = entry();
    if (!e) return null;
    var best = 0;
    e.frames.forEach(function (f, i) { if (Math.abs(f - frame) < Math.abs(e.frames[best] - frame)) best = i; });
    state.index = best;
    render();
    return e.frames[best];
  }
  window.vsrbenchOpenFrame = openFrame;
  window.vsrbenchView = function () {  // for tests and tools: the shared view
    return { zoom: state.zoom, cx: state.cx, cy: state.cy, ratio: ratio(), crop: state.crop };
  };

  seqSelect.addEventListener("change", function () {
    var parts = seqSelect.value.split("\u0000");
    state.index = 0;
    chooseSequence(parts[0], parts[1]);
  });
  frameSelect.addEventListener("change", function () { state.index = Number(frameSelect.value); render(); });
  cropSelect.addEventListener("change", function () { state.crop = cropSelect.value; layout(); });

  // zoom to `z` (one of ZOOMS) keeping the image point under (px, py) (device pixels in `panel`) in place
  function zoomTo(z, panel, px, py) {
    z = clamp(z, ZOOMS[0], ZOOMS[ZOOMS.length - 1]);
    if (panel) {
      var img = panel.querySelector("img");
      var left = Number(img.dataset.left), top = Number(img.dataset.top);
      var ix = (px - left) / state.zoom, iy = (py - top) / state.zoom;  // the image point under the cursor
      var vw = panel.clientWidth * ratio(), vh = panel.clientHeight * ratio();
      state.cx = ix + (vw / 2 - px) / z;
      state.cy = iy + (vh / 2 - py) / z;
    }
    state.zoom = z;
    layout();
  }
  function step(dir) {  // the next zoom level up (+1) or down (-1)
    var i = ZOOMS.indexOf(state.zoom);
    return ZOOMS[clamp(i + dir, 0, ZOOMS.length - 1)];
  }
  document.querySelectorAll("button.zoom-level").forEach(function (b) {
    b.addEventListener("click", function () { zoomTo(Number(b.dataset.zoom)); });
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomTo(step(1)); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomTo(step(-1)); });

  function devicePoint(ev, panel) {  // the cursor in device pixels of the panel's window
    var b = panel.getBoundingClientRect(), r = ratio();
    return [(ev.clientX - b.left - panel.clientLeft) * r, (ev.clientY - b.top - panel.clientTop) * r];
  }
  var drag = null, moved = false;
  function attachPanZoom(panel) {
    panel.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = devicePoint(ev, panel);
      zoomTo(step(ev.deltaY < 0 ? 1 : -1), panel, p[0], p[1]);
    }, { passive: false });
    panel.addEventListener("mousedown", function (ev) {
      // a window that shows its whole image moves the region (the crops), one that shows part of it grabs
      var fits = panel.dataset.fits === "true";
      drag = { panel: panel, x: ev.clientX, y: ev.clientY, cx: state.cx, cy: state.cy, sign: fits ? 1 : -1 };
      moved = false;
      ev.preventDefault();
    });
  }
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var k = drag.sign * ratio() / state.zoom;
    if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 2) moved = true;
    state.cx = drag.cx + (ev.clientX - drag.x) * k;
    state.cy = drag.cy + (ev.clientY - drag.y) * k;
    layout();
  });
  window.addEventListener("mouseup", function (ev) {
    if (drag && !moved && drag.panel === mainPanel) {  // a click on the main panel: the crops centre on that pixel
      var p = devicePoint(ev, mainPanel);
      state.cx = Math.floor((p[0] - Number(mainImg.dataset.left)) / state.zoom) + 0.5;
      state.cy = Math.floor((p[1] - Number(mainImg.dataset.top)) / state.zoom) + 0.5;
      layout();
    }
    drag = null;
    setTimeout(function () { moved = false; }, 0);  // after the click that ends a drag
  });
  attachPanZoom(mainPanel);
  mainImg.addEventListener("load", layout);
  window.addEventListener("resize", layout);  // browser zoom changes devicePixelRatio: sizes follow it
  (function watchRatio() {
    if (!window.matchMedia) return;
    var q = window.matchMedia("(resolution: " + ratio() + "dppx)");
    var again = function () { layout(); watchRatio(); };
    if (q.addEventListener) q.addEventListener("change", again, { once: true });
  })();

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (!entry()) return;
    var k = ev.key;
    if (k === "ArrowRight" || k === "k") { state.method += 1; render(); ev.preventDefault(); }
    else if (k === "ArrowLeft" || k === "j") { state.method -= 1; render(); ev.preventDefault(); }
    else if (k === "ArrowDown" || k === ".") { state.index = Math.min(entry().frames.length - 1, state.index + 1); render(); ev.preventDefault(); }
    else if (k === "ArrowUp" || k === ",") { state.index = Math.max(0, state.index - 1); render(); ev.preventDefault(); }
    else if (k === "+" || k === "=") zoomTo(step(1));
    else if (k === "-") zoomTo(step(-1));
    else if (k === "0") zoomTo(1);
  });

  // ---------------------------------------------------------------- per-frame curves
  function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3); }

  function curve(ds, seq, metric, byMethod) {
    var W = 360, H = 190, L = 52, R = 10, T = 22, B = 30;
    var info = DATA.metrics[metric] || { label: metric, unit: "", higher_is_better: true };
    var written = ((DATA.viewer[ds] || {})[seq] || { frames: [] }).frames;
    var xs = [], ys = [];
    Object.keys(byMethod).forEach(function (m) {
      byMethod[m].forEach(function (p) { xs.push(p[0]); if (p[1] !== null) ys.push(p[1]); });
    });
    if (!xs.length) return null;
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = ys.length ? Math.min.apply(null, ys) : 0, y1 = ys.length ? Math.max.apply(null, ys) : 1;
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 0.5 * (Math.abs(y0) || 1); y1 += 0.5 * (Math.abs(y1) || 1); }
    var pad = 0.06 * (y1 - y0); y0 -= pad; y1 += pad;
    function X(f) { return L + (W - L - R) * (f - x0) / (x1 - x0); }
    function Y(v) { return T + (H - T - B) * (1 - (v - y0) / (y1 - y0)); }
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, "class": "curve",
      "data-dataset": ds, "data-sequence": seq, "data-metric": metric, role: "img" });
    var title = svg("text", { x: L, y: 14, "class": "title" });
    title.textContent = info.label + (info.unit ? " (" + info.unit + ")" : "") + (info.higher_is_better ? " ↑" : " ↓");
    s.appendChild(title);
    s.appendChild(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, "class": "axis" }));
    s.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, "class": "axis" }));
    [y0 + pad, y1 - pad].forEach(function (v) {
      var t = svg("text", { x: L - 4, y: Y(v) + 4, "class": "tick", "text-anchor": "end" });
      t.textContent = fmt(v); s.appendChild(t);
    });
    [x0, x1].forEach(function (f) {
      if (f !== Math.round(f)) return;
      var t = svg("text", { x: X(f), y: H - B + 14, "class": "tick", "text-anchor": "middle" });
      t.textContent = String(f); s.appendChild(t);
    });
    var xl = svg("text", { x: (L + W - R) / 2, y: H - 3, "class": "tick", "text-anchor": "middle" });
    xl.textContent = "frame"; s.appendChild(xl);
    Object.keys(byMethod).forEach(function (m) {
      var color = DATA.colors[m] || "#000";
      var d = "", pen = false;
      byMethod[m].forEach(function (p) {
        if (p[1] === null) { pen = false; return; }
        d += (pen ? "L" : "M") + X(p[0]).toFixed(1) + " " + Y(p[1]).toFixed(1);
        pen = true;
      });
      if (d) s.appendChild(svg("path", { d: d, stroke: color, "class": "line" }));
      byMethod[m].forEach(function (p) {
        if (p[1] === null) return;
        var has = written.indexOf(p[0]) >= 0;
        var c = svg("circle", { cx: X(p[0]).toFixed(1), cy: Y(p[1]).toFixed(1), r: has ? 3.5 : 2,
          fill: has ? color : "#fff", stroke: color, "class": has ? "pt has-frame" : "pt",
          "data-frame": p[0], "data-method": m });
        var tip = svg("title");
        tip.textContent = m + ", frame " + p[0] + ": " + fmt(p[1]) + (has ? " (click: open in the viewer)" : "");
        c.appendChild(tip);
        if (has) c.addEventListener("click", function () {
          openFrame(ds, seq, p[0]);
          var names_ = names(), i = names_.indexOf(m);
          if (i >= 0) { state.method = i; render(); }
          document.getElementById("viewer").scrollIntoView();
        });
        s.appendChild(c);
      });
    });
    return s;
  }

  var curvesBody = document.getElementById("curves-body");
  Object.keys(DATA.curves).forEach(function (ds) {
    Object.keys(DATA.curves[ds]).forEach(function (seq) {
      var block = el("div", { "class": "curve-block" });
      block.appendChild(el("h3", {}, ds + " / " + seq));
      var legend = el("p", { "class": "legend" });
      var methods = {};
      Object.keys(DATA.curves[ds][seq]).forEach(function (metric) {
        Object.keys(DATA.curves[ds][seq][metric]).forEach(function (m) { methods[m] = 1; });
        var c = curve(ds, seq, metric, DATA.curves[ds][seq][metric]);
        if (c) block.appendChild(c);
      });
      Object.keys(methods).forEach(function (m) {
        var sw = el("span", { "class": "swatch" }, "■ ");
        sw.style.color = DATA.colors[m] || "#000";
        legend.appendChild(sw);
        legend.appendChild(document.createTextNode(m + "  "));
      });
      block.insertBefore(legend, block.children[1]);
      curvesBody.appendChild(block);
    });
  });

  // ---------------------------------------------------------------- start
  var first = seqSelect.options[0];
  if (first) {
    var parts = first.value.split("\u0000");
    chooseSequence(parts[0], parts[1]);
  } else {
    indicator.textContent = "no frames to show (the frames of the run could not be read)";
  }
  document.body.dataset.ready = "1";
})();
