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
  var state = { ds: null, seq: null, index: 0, method: 0, scale: 1, x: 0, y: 0 };
  var seqSelect = document.getElementById("seq-select");
  var frameSelect = document.getElementById("frame-select");
  var mainImg = document.getElementById("main-img");
  var mainLabel = document.getElementById("main-label");
  var indicator = document.getElementById("frame-indicator");
  var panelsBox = document.getElementById("panels");

  function entry() { return (DATA.viewer[state.ds] || {})[state.seq]; }
  function names() { var e = entry(); return e ? Object.keys(e.panels) : []; }
  function mainChoices() {  // the main panel flips between the methods (GT first)
    return names();
  }

  Object.keys(DATA.viewer).forEach(function (ds) {
    Object.keys(DATA.viewer[ds]).forEach(function (seq) {
      var o = el("option", { value: ds + "\u0000" + seq }, ds + " / " + seq);
      seqSelect.appendChild(o);
    });
  });

  function applyTransform() {
    // the offset in % of the image's own size: the same view in panels of any size
    var t = "translate(" + state.x.toFixed(3) + "%," + state.y.toFixed(3) + "%) scale(" + state.scale + ")";
    document.querySelectorAll("#viewer .panel img").forEach(function (img) { img.style.transform = t; });
  }

  function render() {
    var e = entry();
    if (!e) { indicator.textContent = "no frames to show"; return; }
    var frame = e.frames[state.index];
    frameSelect.value = String(state.index);
    var choices = mainChoices();
    state.method = ((state.method % choices.length) + choices.length) % choices.length;
    var shown = choices[state.method];
    var src = e.panels[shown][state.index];
    if (src) mainImg.src = src; else mainImg.removeAttribute("src");
    mainImg.alt = shown + ", frame " + frame;
    mainLabel.textContent = shown;
    mainLabel.style.color = DATA.colors[shown] || "#000";
    mainImg.dataset.method = shown;
    mainImg.dataset.frame = String(frame);
    indicator.textContent = state.ds + " / " + state.seq + ", frame " + frame + " — main panel: " + shown +
      " (" + (state.method + 1) + "/" + choices.length + ")";
    indicator.dataset.frame = String(frame);
    panelsBox.querySelectorAll(".panel").forEach(function (p) {
      var img = p.querySelector("img");
      var s = e.panels[p.dataset.name][state.index];
      if (s) img.src = s; else img.removeAttribute("src");
      p.classList.toggle("current", p.dataset.name === shown);
    });
    applyTransform();
  }

  function chooseSequence(ds, seq) {
    state.ds = ds; state.seq = seq;
    var e = entry();
    seqSelect.value = ds + "\u0000" + seq;
    frameSelect.innerHTML = "";
    panelsBox.innerHTML = "";
    if (!e) return;
    e.frames.forEach(function (f, i) { frameSelect.appendChild(el("option", { value: String(i) }, String(f))); });
    names().forEach(function (name, i) {
      var p = el("div", { "class": "panel", "data-name": name });
      var img = el("img", { alt: name, draggable: "false" });
      p.appendChild(img);
      var label = el("span", { "class": "label" }, name);
      label.style.color = DATA.colors[name] || "#000";
      p.appendChild(label);
      p.addEventListener("click", function () { state.method = i; render(); });
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

  seqSelect.addEventListener("change", function () {
    var parts = seqSelect.value.split("\u0000");
    state.index = 0;
    chooseSequence(parts[0], parts[1]);
  });
  frameSelect.addEventListener("change", function () { state.index = Number(frameSelect.value); render(); });

  function zoom(factor, cx, cy) {
    var s = Math.min(32, Math.max(1, state.scale * factor));
    var k = s / state.scale;
    cx = cx || 0; cy = cy || 0;  // keep the point under the cursor in place
    state.x = cx - k * (cx - state.x);
    state.y = cy - k * (cy - state.y);
    state.scale = s;
    if (s === 1) { state.x = 0; state.y = 0; }
    applyTransform();
  }
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(2, 50, 50); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(0.5, 50, 50); });
  document.getElementById("zoom-reset").addEventListener("click", function () { state.scale = 1; state.x = 0; state.y = 0; applyTransform(); });

  function panelPoint(ev) {  // cursor position in % of the panel's (= the unzoomed image's) width and height
    var r = ev.currentTarget.getBoundingClientRect();
    var sx = 100 / (r.width || 1), sy = 100 / (r.height || 1);
    return [(ev.clientX - r.left) * sx, (ev.clientY - r.top) * sy, sx, sy];
  }
  var drag = null;
  function attachPanZoom(panel) {
    panel.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = panelPoint(ev);
      zoom(ev.deltaY < 0 ? 1.25 : 0.8, p[0], p[1]);
    }, { passive: false });
    panel.addEventListener("mousedown", function (ev) {
      var p = panelPoint(ev);
      drag = { x: ev.clientX, y: ev.clientY, sx: state.x, sy: state.y, kx: p[2], ky: p[3] };
      ev.preventDefault();
    });
  }
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    state.x = drag.sx + (ev.clientX - drag.x) * drag.kx;
    state.y = drag.sy + (ev.clientY - drag.y) * drag.ky;
    applyTransform();
  });
  window.addEventListener("mouseup", function () { drag = null; });
  attachPanZoom(document.getElementById("main-panel"));
  new MutationObserver(function () {
    panelsBox.querySelectorAll(".panel:not([data-pz])").forEach(function (p) { p.dataset.pz = "1"; attachPanZoom(p); });
  }).observe(panelsBox, { childList: true });

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (!entry()) return;
    var k = ev.key;
    if (k === "ArrowRight" || k === "k") { state.method += 1; render(); ev.preventDefault(); }
    else if (k === "ArrowLeft" || k === "j") { state.method -= 1; render(); ev.preventDefault(); }
    else if (k === "ArrowDown" || k === ".") { state.index = Math.min(entry().frames.length - 1, state.index + 1); render(); ev.preventDefault(); }
    else if (k === "ArrowUp" || k === ",") { state.index = Math.max(0, state.index - 1); render(); ev.preventDefault(); }
    else if (k === "+" || k === "=") zoom(2, 50, 50);
    else if (k === "-") zoom(0.5, 50, 50);
    else if (k === "0") { state.scale = 1; state.x = 0; state.y = 0; applyTransform(); }
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
