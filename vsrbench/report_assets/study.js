// vsrbench study: a pairwise comparison of videos (two outputs of one clip, played in sync, 1:1 pixels).
// Plain JavaScript, nothing fetched from elsewhere. The study is the JSON block of index.html.
// Static mode (opened from disk): answers are kept in localStorage and downloaded as one JSON file.
// Served mode (`vsrbench study serve`, <meta name="vsrbench-mode" content="served">): each answer is also
// posted to api/answer as it is given, and kept until the server has acknowledged it.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("vsrbench-study").textContent);
  var meta = document.querySelector('meta[name="vsrbench-mode"]');
  var MODE = meta && meta.content === "served" ? "served" : "static";
  var KEY = "vsrbench-study:" + S.id;
  var GT = S.attention_check.a;
  var REPEAT_GAP = 3;
  function $(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- the order of a participant's trials
  // The same draws as vsrbench.visual.study.design.participant_order (tests compare the two).
  function mulberry32(a) {
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function orderOf(design, seed) {
    var draw = mulberry32(seed >>> 0), i, j, tmp;
    var order = design.filter(function (t) { return S.trials[t].kind !== "repeat"; });
    for (i = order.length - 1; i > 0; i--) {
      j = Math.floor(draw() * (i + 1));
      tmp = order[i]; order[i] = order[j]; order[j] = tmp;
    }
    var swap = {};
    order.forEach(function (t) { swap[t] = draw() < 0.5; });
    design.forEach(function (t) {
      var trial = S.trials[t];
      if (trial.kind !== "repeat") return;
      var pos = order.indexOf(trial.repeat_of);
      var lo = Math.min(pos + REPEAT_GAP, order.length);
      order.splice(lo + Math.floor(draw() * (order.length - lo + 1)), 0, t);
      swap[t] = !swap[trial.repeat_of];
    });
    return order.map(function (t) {
      var a = S.trials[t].a, b = S.trials[t].b;
      return swap[t] ? [t, b, a] : [t, a, b];
    });
  }

  // ---------------------------------------------------------------- the participant's state (survives a reload)
  var state = { participant: null, answers: [], pending: [] };
  var storage = null;
  try { storage = window.localStorage; } catch (e) { storage = null; }
  try {
    var kept = storage && JSON.parse(storage.getItem(KEY));
    if (kept && kept.participant) state = kept;
  } catch (e) { /* a broken entry: start afresh */ }
  function save() { if (storage) storage.setItem(KEY, JSON.stringify(state)); }
  function randomToken() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function randomUint32() { var b = new Uint32Array(1); crypto.getRandomValues(b); return b[0]; }
  function designFromAddress() {
    var m = /[?&#]design=(\d+)/.exec(location.search + location.hash);
    var k = m ? Number(m[1]) : -1;
    return k >= 0 && k < S.designs.length ? k : Math.floor(randomUint32() / 4294967296 * S.designs.length);
  }
  function answered() {
    var done = {};
    state.answers.forEach(function (a) { done[a.trial] = true; });
    return done;
  }

  // ---------------------------------------------------------------- screens
  function show(id) {
    ["intro", "instructions", "trial", "done"].forEach(function (s) { $(s).hidden = s !== id; });
    document.body.setAttribute("data-screen", id);
  }
  var perTrial = S.designs[0].length;
  var clipSeconds = 0;
  Object.keys(S.clips).forEach(function (c) { clipSeconds = Math.max(clipSeconds, S.clips[c].frames.length / S.fps); });
  $("intro-count").textContent = String(perTrial);
  $("intro-minutes").textContent = String(Math.max(1, Math.ceil(perTrial * (Math.max(2 * clipSeconds, 4) + 3) / 60)));
  $("consent").addEventListener("change", function () { $("to-instructions").disabled = !this.checked; });
  $("to-instructions").addEventListener("click", function () {
    if (state.participant) { show("instructions"); return; }
    if (MODE === "static") {
      state = { participant: randomToken(), seed: randomUint32(), design: designFromAddress(), mode: MODE,
                consent: true, answers: [], pending: [] };
      save();
      show("instructions");
      return;
    }
    this.disabled = true;
    post("api/participant", {}).then(function (r) {
      if (!r.ok) throw new Error(r.body.error || ("status " + r.status));
      state = { participant: r.body.participant, seed: r.body.seed, design: r.body.design, mode: MODE,
                consent: true, answers: [], pending: [] };
      save();
      show("instructions");
    }).catch(function (e) {
      $("to-instructions").disabled = false;
      $("intro").querySelector("p").textContent = "The study server cannot be reached (" + e.message + "); try again.";
    });
  });
  $("begin").addEventListener("click", function () { state.instructed = true; save(); nextTrial(); });

  // ---------------------------------------------------------------- a trial: load, play in sync, answer
  var current = null;
  function nextTrial() {
    var order = orderOf(S.designs[state.design], state.seed), done = answered();
    for (var i = 0; i < order.length; i++) {
      if (!done[order[i][0]]) { showTrial(order[i], i, order.length, order[i + 1]); return; }
    }
    finish();
  }
  var prefetched = [];  // the next trial's frames, loaded while this one plays (kept referenced: cached)
  function prefetch(o) {
    prefetched = [];
    if (!o) return;
    var clip = S.clips[S.trials[o[0]].clip];
    panelsOf(o).forEach(function (s) {
      clip.sources[s[2]].forEach(function (src) { prefetched.push(loadImage(src).catch(function () { return null; })); });
    });
  }
  function loadImage(src) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { reject(new Error("cannot load " + src)); };
      img.src = src;
    });
  }
  function panelsOf(o) {
    var sides = [["left", "Left", o[1]], ["right", "Right", o[2]]];
    if (S.reference) sides.splice(1, 0, ["reference", "Reference", GT]);
    return sides;
  }
  function showTrial(o, index, total, following) {
    show("trial");
    var trial = S.trials[o[0]], clip = S.clips[trial.clip], stage = $("stage");
    $("progress-bar").max = total;
    $("progress-bar").value = index;
    $("progress-text").textContent = "Trial " + (index + 1) + " of " + total;
    $("question").textContent = S.question;
    $("choose-left").disabled = $("choose-right").disabled = true;
    $("trial-status").textContent = "Loading…";
    stage.textContent = "";
    stage.removeAttribute("data-ready");
    stage.setAttribute("data-trial", o[0]);
    stage.setAttribute("data-index", String(index));
    stage.setAttribute("data-left", o[1]);
    stage.setAttribute("data-right", o[2]);
    var token = {};
    current = { token: token, trial: o[0], left: o[1], right: o[2], ready: false };
    var sides = panelsOf(o);
    Promise.all(sides.map(function (s) { return Promise.all(clip.sources[s[2]].map(loadImage)); }))
      .then(function (images) {
        if (current && current.token === token) { play(sides, images, clip); prefetch(following); }
      })
      .catch(function (e) { $("trial-status").textContent = e.message; });
  }
  function play(sides, images, clip) {
    var dpr = window.devicePixelRatio || 1, stage = $("stage"), canvases = [], needed = 0;
    sides.forEach(function (s, k) {
      var panel = document.createElement("figure"), img0 = images[k][0];
      panel.className = "panel " + s[0];
      var c = document.createElement("canvas");
      c.width = img0.naturalWidth;  // one canvas pixel per frame pixel, shown one device pixel each
      c.height = img0.naturalHeight;
      c.style.width = (img0.naturalWidth / dpr) + "px";
      c.style.height = (img0.naturalHeight / dpr) + "px";
      var label = document.createElement("figcaption");
      label.textContent = s[1];
      panel.appendChild(c);
      panel.appendChild(label);
      stage.appendChild(panel);
      canvases.push(c.getContext("2d"));
      needed += img0.naturalWidth / dpr + 16;
    });
    $("fit-notice").hidden = needed <= window.innerWidth;
    var n = clip.frames.length, start = performance.now(), shown = -1, token = current.token;
    current.shownAt = start;
    $("trial-status").textContent = "";
    function tick(now) {
      if (!current || current.token !== token) return;
      var elapsed = now - start, k = Math.floor(elapsed * S.fps / 1000) % n;
      if (k !== shown) {
        canvases.forEach(function (ctx, i) { ctx.drawImage(images[i][k], 0, 0); });  // every panel, same frame
        shown = k;
      }
      if (!current.ready && elapsed >= n * 1000 / S.fps) {
        current.ready = true;
        $("choose-left").disabled = $("choose-right").disabled = false;
        stage.setAttribute("data-ready", "1");
      }
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  }
  function choose(side) {
    if (!current || !current.ready) return;
    var c = current;
    current = null;
    var a = { trial: c.trial, left: c.left, right: c.right, choice: side === "left" ? c.left : c.right,
              seconds: Math.round(performance.now() - c.shownAt) / 1000 };
    state.answers.push(a);
    if (MODE === "served") state.pending.push(c.trial);
    save();  // kept before anything else happens: a reload from here on loses nothing
    flush();
    nextTrial();
  }
  $("choose-left").addEventListener("click", function () { choose("left"); });
  $("choose-right").addEventListener("click", function () { choose("right"); });
  document.addEventListener("keydown", function (e) {
    if (document.body.getAttribute("data-screen") !== "trial") return;
    if (e.key === "ArrowLeft") choose("left");
    else if (e.key === "ArrowRight") choose("right");
  });

  // ---------------------------------------------------------------- served mode: post each answer until acknowledged
  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
      });
  }
  var sending = false;
  function flush() {
    if (MODE !== "served" || sending || !state.pending.length) { updateDone(); return; }
    sending = true;
    var id = state.pending[0];
    var a = state.answers.filter(function (x) { return x.trial === id; })[0];
    var body = { participant: state.participant, trial: a.trial, left: a.left, right: a.right, choice: a.choice,
                 seconds: a.seconds };
    post("api/answer", body).then(function (r) {
      sending = false;
      if (r.ok || r.status === 409) {  // 409: stored already (an acknowledgement that got lost)
        state.pending.shift();
        save();
        flush();
      } else {
        state.refused = (state.refused || []).concat([{ trial: id, status: r.status, error: r.body.error }]);
        state.pending.shift();
        save();
        $("trial-status").textContent = "An answer was refused by the server: " + (r.body.error || r.status);
        flush();
      }
    }).catch(function () {
      sending = false;
      $("trial-status").textContent = "Saving… (the server cannot be reached; retrying)";
      setTimeout(flush, 2000);
    });
  }

  // After a reload, answers sent but not acknowledged may be stored already: ask, then send the rest.
  function resume() {
    if (MODE !== "served" || !state.pending.length) { flush(); return; }
    fetch("api/progress?participant=" + encodeURIComponent(state.participant))
      .then(function (r) { return r.ok ? r.json() : { answered: [] }; })
      .then(function (j) {
        var stored = {};
        (j.answered || []).forEach(function (t) { stored[t] = true; });
        state.pending = state.pending.filter(function (t) { return !stored[t]; });
        save();
        flush();
      })
      .catch(function () { setTimeout(resume, 2000); });
  }

  // ---------------------------------------------------------------- the end
  function finish() {
    show("done");
    $("participant-code").textContent = state.participant;
    $("download").hidden = MODE !== "static";
    updateDone();
  }
  function updateDone() {
    if (document.body.getAttribute("data-screen") !== "done") return;
    var text = MODE === "static"
      ? "Please download your answers (one small file) and send it to the researcher who invited you."
      : state.pending.length ? "Saving your answers…" : "Your answers have been saved. You may close this page.";
    $("done-text").textContent = text;
    document.body.setAttribute("data-saved", MODE === "served" && !state.pending.length ? "1" : "0");
  }
  $("download").addEventListener("click", function () {
    var payload = { format: "vsrbench-study-answers", version: 1, study: S.id, participant: state.participant,
                    design: state.design, seed: state.seed, mode: MODE, answers: state.answers };
    var blob = new Blob([JSON.stringify(payload, null, 1)], { type: "application/json" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "vsrbench-study-" + S.id + "-" + state.participant.slice(0, 8) + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 5000);
  });

  // ---------------------------------------------------------------- start where the participant was
  if (!state.participant) show("intro");
  else if (!state.instructed) show("instructions");
  else nextTrial();
  resume();
  document.body.setAttribute("data-mode", MODE);
  document.body.setAttribute("data-ready", "1");
})();
