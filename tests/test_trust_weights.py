"""Weights provenance: the LPIPS backbone is checked against torchvision's published sha256 prefix,
every result records which weights files it used (path, sha256), and ``vsrbench weights download``
is the one explicit download (tested against a local HTTP server on 127.0.0.1; nothing here
touches the internet).
"""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from _support.builders import ALEX, random_alex

import vsrbench.core.weights as core_weights
from vsrbench.baselines import MODELS, ModelSpec
from vsrbench.baselines.registry import Checkpoint
from vsrbench.cli import main
from vsrbench.core.errors import UnknownNameError, WeightsError
from vsrbench.core.weights import download, published_prefix, sha256_cached
from vsrbench.core.io import write_frame
from vsrbench.metrics import lpips
from vsrbench.metrics.lpips import backbone_record

# the module (vsrbench.metrics.lpips, the attribute, is the lpips function)
lpips_mod = sys.modules["vsrbench.metrics.lpips"]

H, W, N = 48, 64, 6


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def frames(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(N)]


def mismatch_message(path: Path) -> str:
    return (f"weights file '{path}' has sha256 {sha(path)}, expected one starting 7be5be79 ({ALEX}): it is not "
            "torchvision's published file (corrupt, truncated or another file); get it with `vsrbench weights "
            f"download lpips-alex` (from https://download.pytorch.org/models/{ALEX}); to use a deliberately "
            "different file, set VSRBENCH_UNVERIFIED_WEIGHTS=1 (results then record it as unverified)")


# ---------------------------------------------------------------------- 1. the backbone is verified

def test_published_prefix_is_read_from_torchvision_names():
    assert [published_prefix(f) for f in lpips_mod.BACKBONE_FILES.values()] == ["7be5be79", "397923af", "b8a52dc0"]
    assert published_prefix("weights") is None and published_prefix("params_16L_x4.h5") is None


def test_a_backbone_with_the_right_name_but_other_content_is_refused(tmp_path, capsys):
    path = random_alex(Path(os.environ["VSRBENCH_HOME"]) / ALEX)
    a, b = frames(1)[0], frames(2)[0]
    with pytest.raises(WeightsError) as e:
        lpips(a, b)
    assert str(e.value) == mismatch_message(path)
    # an explicit file under another name must hold the published content too
    other = random_alex(tmp_path / "my_alexnet.pth", seed=1)
    with pytest.raises(WeightsError) as e:
        lpips(a, b, lpips_weights=other)
    assert str(e.value) == mismatch_message(other)
    # the evaluate command stops before any work, with the one line (and its usual hint)
    gt, pred = tmp_path / "GT", tmp_path / "PRED"
    for i, (g, p) in enumerate(zip(frames(1), frames(2))):
        write_frame(gt / f"{i:03d}.png", g)
        write_frame(pred / f"{i:03d}.png", p)
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(tmp_path / "res"),
                 "--metrics", "psnr,lpips", "--device", "cpu"]) == 2
    assert capsys.readouterr().err == (f"vsrbench evaluate: error: {mismatch_message(path)}; to score without "
                                       "LPIPS/tLP use --metrics psnr\n")
    assert not (tmp_path / "res" / "summary.json").exists()


def test_the_published_content_is_accepted_and_recorded(tmp_path, monkeypatch):
    """A file whose sha256 starts with the prefix of its published name passes (the name is made up
    here, from the file's own hash: torchvision's real file is not in the test data)."""
    path = random_alex(tmp_path / "x.pth")
    published = f"alexnet-owt-{sha(path)[:8]}.pth"
    monkeypatch.setitem(lpips_mod.BACKBONE_FILES, "alex", published)
    record = backbone_record("alex", path)
    assert record == {"path": str(path), "sha256": sha(path), "verified": True, "published_file": published}
    assert lpips(frames(1)[0], frames(2)[0], lpips_weights=path) > 0


def test_a_deliberate_unpublished_backbone_is_accepted_and_recorded_unverified(tmp_path, monkeypatch):
    path = random_alex(tmp_path / ALEX)
    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    assert backbone_record("alex", path)["verified"] is False
    assert lpips(frames(1)[0], frames(2)[0], lpips_weights=path) > 0
    monkeypatch.delenv("VSRBENCH_UNVERIFIED_WEIGHTS")
    with pytest.raises(WeightsError, match="not torchvision's published file"):
        backbone_record("alex", path)
    core_weights.accept_unverified(path)  # the in-process way (vsrbench speed's random backbone uses it)
    assert backbone_record("alex", path)["verified"] is False


def test_the_hash_is_computed_once_per_file_version(tmp_path, monkeypatch):
    path = random_alex(tmp_path / "cached.pth")
    calls = []
    real = core_weights.sha256sum
    monkeypatch.setattr(core_weights, "sha256sum", lambda p, *a: calls.append(p) or real(p, *a))
    for _ in range(3):
        assert sha256_cached(path) == sha(path)
    assert len(calls) == 1
    random_alex(path, seed=5)  # new content (new size or mtime): hashed again
    os.utime(path, ns=(1, 1))
    assert sha256_cached(path) == sha(path) and len(calls) == 2


# ---------------------------------------------------------------------- 2. results record the weights

@pytest.fixture
def unverified_alex(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VSRBENCH_UNVERIFIED_WEIGHTS", "1")
    return random_alex(tmp_path / "weights" / ALEX)


def expected_record(backbone: Path) -> dict:
    lin = lpips_mod.lin_weights_path("alex")
    return {"lpips:backbone": {"path": str(backbone), "sha256": sha(backbone), "verified": False,
                               "published_file": ALEX},
            "lpips:linear": {"path": str(lin), "sha256": sha(lin)}}


def test_evaluate_summary_records_the_weights_files(tmp_path, unverified_alex, capsys):
    gt, pred, out = tmp_path / "GT", tmp_path / "PRED", tmp_path / "res"
    for i, (g, p) in enumerate(zip(frames(1), frames(2))):
        write_frame(gt / f"{i:03d}.png", g)
        write_frame(pred / f"{i:03d}.png", p)
    args = ["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(out), "--metrics", "psnr,lpips",
            "--device", "cpu", "--lpips-weights", str(unverified_alex)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weights"] == expected_record(unverified_alex)
    # resuming with another backbone file would mix scores of two backbones: refused
    other = random_alex(tmp_path / "other" / ALEX, seed=3)
    capsys.readouterr()
    assert main(args[:-1] + [str(other)]) == 2
    err = capsys.readouterr().err
    assert err == (f"vsrbench evaluate: error: {str(out)!r} holds scores computed with other weights files "
                   f"(lpips:backbone sha256 {sha(unverified_alex)}, lpips:linear sha256 "
                   f"{sha(lpips_mod.lin_weights_path('alex'))}); pass --no-resume to replace them, or choose "
                   "another --out\n")
    # without LPIPS/tLP no weights are used, and none are recorded
    assert main(args[:7] + ["--out", str(tmp_path / "res2"), "--metrics", "psnr"]) == 0
    assert json.loads((tmp_path / "res2" / "summary.json").read_text())["weights"] == {}


def test_run_record_holds_the_lpips_weights(tmp_path, unverified_alex):
    from vsrbench.runner import run_benchmark
    from vsrbench.results.loading import load_runs

    for s in ("s0", "s1"):
        for i, (g, p) in enumerate(zip(frames(1), frames(2))):
            write_frame(tmp_path / "data" / "GT" / s / f"{i:03d}.png", g)
            write_frame(tmp_path / "data" / "A" / s / f"{i:03d}.png", p)
    bench = tmp_path / "bench.toml"
    bench.write_text(textwrap.dedent(f"""
        protocol = "tecogan"
        metrics = ["psnr", "lpips"]
        lpips_weights = "{unverified_alex.parent}"
        [datasets.syn]
        gt = "data/GT"
        [methods.A]
        outputs = {{ syn = "data/A" }}
        """))
    assert run_benchmark(bench, tmp_path / "res", device="cpu", progress=False).ok
    assert load_runs(tmp_path / "res").iloc[0]["weights"] == expected_record(unverified_alex)


# ---------------------------------------------------------------------- 3. explicit download

class _Server:
    """A local HTTP server for one generated file, with Range support; ``cut`` ends the first
    response after that many bytes (an interrupted download)."""

    def __init__(self, body: bytes, cut: int | None = None, ranges: bool = True, pace_s: float = 0.0):
        self.body, self.cut, self.requests, self.ranges, self.pace_s = body, cut, [], ranges, pace_s
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append(rng)
                rng = rng if server.ranges else None  # a server without Range support sends it all
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(server.body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(server.body)}")
                    self.end_headers()
                    return
                chunk = server.body[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(server.body) - 1}/{len(server.body)}")
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                if server.cut is not None:
                    chunk, server.cut = chunk[:server.cut], None
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                step = max(1, len(chunk) // 10) if server.pace_s else len(chunk)
                for i in range(0, len(chunk), step):  # ten slices, pace_s apart
                    self.wfile.write(chunk[i:i + step])
                    self.wfile.flush()
                    time.sleep(server.pace_s)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file.bin"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


BODY = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
BODY_SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def server():
    s = _Server(BODY)
    yield s
    s.close()


@pytest.fixture
def test_model(monkeypatch, server):
    """A registered model whose one checkpoint has a published sha256 and a URL (the local server)."""
    ckpt = Checkpoint(filename="test-ckpt.pth", format="torch-state-dict", source="the test server",
                      sha256=BODY_SHA, url=server.url)
    monkeypatch.setitem(MODELS, "test-dl", ModelSpec("test-dl", "download test", lambda **k: None,
                                                    checkpoints=(ckpt,)))
    return Path(os.environ["VSRBENCH_HOME"]) / "test-ckpt.pth"


def test_download_verifies_and_prints_where_the_file_went(test_model, server, capsys, monkeypatch):
    assert main(["weights", "download", "test-dl"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{test_model}\n"
    assert test_model.read_bytes() == BODY and not Path(f"{test_model}.part").exists()
    assert f"test-ckpt.pth: downloading {server.url} (0.3 MB)" in err
    assert err.endswith("MB/s)\n") and server.requests == [None]
    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(rf"^test-dl +test-ckpt\.pth +sha256 {BODY_SHA[:12]} +present: {re.escape(str(test_model))}$",
                     listing, re.M), listing
    assert re.search(r"^lpips-alex +alexnet-owt-7be5be79\.pth +sha256 prefix 7be5be79 +missing$", listing, re.M)
    # present and verified: nothing is downloaded again
    assert main(["weights", "download", "test-dl"]) == 0
    assert "already present, sha256 ok" in capsys.readouterr().err and server.requests == [None]


def test_download_resumes_a_partial_file(test_model, server):
    Path(f"{test_model}.part").write_bytes(BODY[:120_000])
    assert main(["weights", "download", "test-dl"]) == 0
    assert server.requests == ["bytes=120000-"]
    assert sha(test_model) == BODY_SHA


def test_a_server_without_range_support_restarts_the_file(test_model, server):
    server.ranges = False
    Path(f"{test_model}.part").write_bytes(b"stale partial bytes")
    assert main(["weights", "download", "test-dl"]) == 0
    assert server.requests == ["bytes=19-"] and sha(test_model) == BODY_SHA


def test_progress_reports_megabytes_rate_and_eta(test_model, server, capsys, monkeypatch):
    server.pace_s = 0.12  # about 1.2 s in all: at least one progress line (at most one per 0.5 s)
    monkeypatch.setenv("VSRBENCH_PROGRESS_INTERVAL", "0.5")
    assert main(["weights", "download", "test-dl"]) == 0
    lines = capsys.readouterr().err.splitlines()
    progress = [x for x in lines if "ETA" in x]
    assert 1 <= len(progress) <= 3, lines
    assert re.fullmatch(r"test-ckpt\.pth: 0\.\d/0\.3 MB \(\d+%\), \d+\.\d MB/s, ETA \d+:\d\d", progress[0])
    assert re.fullmatch(r"test-ckpt\.pth: 0\.3 MB \(0\.3 MB downloaded in \d+\.\d s, \d+\.\d MB/s\)", lines[-1])
    monkeypatch.setenv("VSRBENCH_PROGRESS", "0")  # progress off: only the first and the last line
    (test_model).unlink()
    assert main(["weights", "download", "test-dl"]) == 0
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_an_interrupted_download_keeps_its_part_and_resumes(test_model, server, capsys):
    server.cut = 100_000
    assert main(["weights", "download", "test-dl"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (f"vsrbench weights: error: download of {server.url} stopped after 0.1 of 0.3 MB; run the "
                   f"same command again to resume from '{test_model}.part'")
    assert not test_model.exists() and Path(f"{test_model}.part").stat().st_size == 100_000
    assert main(["weights", "download", "test-dl"]) == 0
    assert server.requests == [None, "bytes=100000-"] and sha(test_model) == BODY_SHA


def test_a_checksum_mismatch_deletes_the_download(test_model, server, capsys, monkeypatch):
    wrong = "0" * 64
    ckpt = Checkpoint(filename="test-ckpt.pth", format="torch-state-dict", source="the test server",
                      sha256=wrong, url=server.url)
    monkeypatch.setitem(MODELS, "test-dl", ModelSpec("test-dl", "download test", lambda **k: None,
                                                    checkpoints=(ckpt,)))
    assert main(["weights", "download", "test-dl"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (f"vsrbench weights: error: the file downloaded from {server.url} has sha256 {BODY_SHA}, "
                   f"expected {wrong} (test-ckpt.pth): it is not the published file; deleted it, nothing was "
                   f"written to '{test_model}'")
    assert not test_model.exists() and not Path(f"{test_model}.part").exists()


def test_the_lpips_backbone_is_checked_against_its_name_prefix(server, capsys):
    """``--url`` (a mirror) serves other bytes than torchvision's AlexNet: refused, nothing kept."""
    assert main(["weights", "download", "lpips-alex", "--url", server.url]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    dest = Path(os.environ["VSRBENCH_HOME"]) / ALEX
    assert err == (f"vsrbench weights: error: the file downloaded from {server.url} has sha256 {BODY_SHA}, "
                   f"expected one starting 7be5be79 ({ALEX}): it is not torchvision's published file; deleted "
                   f"it, nothing was written to '{dest}'")
    assert not dest.exists() and not Path(f"{dest}.part").exists()


def test_server_down_is_one_line(test_model, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/file.bin"
    assert main(["weights", "download", "test-dl", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err == (f"vsrbench weights: error: cannot download {url}: connection refused (is the server up?); "
                   f"nothing was written to '{test_model}'; check the network (or --url) and retry\n")
    assert not test_model.exists() and not Path(f"{test_model}.part").exists()


def test_unknown_name_and_no_url(capsys):
    assert main(["weights", "download", "lpips-alx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vsrbench weights: error: unknown weights 'lpips-alx'; did you mean 'lpips-alex'? (known: ")
    assert err.count("\n") == 1
    with pytest.raises(UnknownNameError):
        from vsrbench.catalog.weights import get_known
        get_known("alexnet")
    assert main(["weights", "download", "tecogan-pt-bd"]) == 2
    assert capsys.readouterr().err.startswith(
        "vsrbench weights: error: no direct download URL is published for 'tecogan-pt-bd' "
        "(TecoGAN_4x_BD_Vimeo_iter500K.pth); get it from TecoGAN-PyTorch")


def test_published_urls_are_in_the_data():
    from vsrbench.catalog.weights import known_weights

    known = known_weights()
    assert known["lpips-alex"].url == f"https://download.pytorch.org/models/{ALEX}"
    assert known["enet"].url == "https://github.com/msmsajjadi/EnhanceNet-Code/raw/HEAD/weights"
    assert known["enet"].local_name == "enhancenet/weights"
    assert known["duf-16l"].url == "https://github.com/yhjo09/VSR-DUF/raw/HEAD/params_16L_x4.h5"
    assert known["tecogan"].url == "https://ge.in.tum.de/download/data/TecoGAN/model.zip"
    assert known["tecogan"].members == ("TecoGAN.index", "TecoGAN.data-00000-of-00001")


def test_a_zip_checkpoint_is_unpacked_into_the_weights_folder(tmp_path, monkeypatch):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model/T.index", b"index bytes")
        z.writestr("model/T.data-00000-of-00001", b"data bytes")
        z.writestr("model/T.meta", b"meta")
    s = _Server(buf.getvalue())
    try:
        ckpt = Checkpoint(filename="T.index", format="tf-v2", source="test", companions=("T.data-00000-of-00001",),
                          url=s.url.replace("file.bin", "model.zip"))
        monkeypatch.setitem(MODELS, "test-zip", ModelSpec("test-zip", "zip test", lambda **k: None,
                                                         checkpoints=(ckpt,)))
        assert main(["weights", "download", "test-zip"]) == 0
    finally:
        s.close()
    home = Path(os.environ["VSRBENCH_HOME"])
    assert (home / "T.index").read_bytes() == b"index bytes"
    assert (home / "T.data-00000-of-00001").read_bytes() == b"data bytes"
    assert sorted(p.name for p in home.iterdir() if p.is_file()) == ["T.data-00000-of-00001", "T.index"]


def test_library_download_returns_its_record(tmp_path, server):
    import io

    record = download(server.url, tmp_path / "f.bin", sha256=BODY_SHA, stream=io.StringIO())
    assert record == {"path": str(tmp_path / "f.bin"), "sha256": BODY_SHA, "verified": True}
