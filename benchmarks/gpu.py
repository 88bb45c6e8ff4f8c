"""GPU measurements for docs/performance.md ("On a GPU"): the batched pipeline, the torch Farneback, the
metric functions and TecoGAN on one CUDA device. Prints one line per measurement and writes them to JSON.

    python benchmarks/gpu.py --out gpu.json [--frames 160] [--shared ../shared]

Timings are wall-clock with ``torch.cuda.synchronize()`` around them, best of ``--repeat`` after a warm-up.
Frames: synthetic 720x576 sequences (vsrbench.speed.synthetic_pair) held in memory, and the same frames
read from PNG files (decoding included); fidelity on real Vid4 frames when ``--shared`` has them. LPIPS
uses a seeded random AlexNet (timing only). Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

RESULTS: dict = {}
DEV = "cuda"  # --device cpu: a quick smoke run of this script on a machine without a GPU
SIZE = (576, 720)  # --size HxW of the synthetic frames (720x576, Vid4 calendar's size)


def sync() -> None:
    if DEV.startswith("cuda"):
        torch.cuda.synchronize()


def say(key: str, value, text: str) -> None:
    RESULTS[key] = value
    print(f"{key}: {text}", flush=True)


def best(fn, repeat: int) -> float:
    fn()  # warm-up (kernels, cuDNN autotuning, caches)
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def farneback_section(args, shared: Path | None) -> None:
    import cv2

    from vsrbench.core.io import open_sequence
    from vsrbench.metrics._kernels import center32_window, grey
    from vsrbench.metrics.farneback import farneback

    params = (0.5, 3, 15, 3, 5, 1.2, 0)
    if shared is not None and (shared / "data/vid4/GT/calendar").is_dir():
        per_clip = {}
        for clip in ("calendar", "city", "foliage", "walk"):
            gt_dir, out_dir = shared / "data/vid4/GT" / clip, shared / "data/vid4/DUF-52L" / clip
            if not out_dir.is_dir():
                continue
            gt, out = open_sequence(gt_dir), open_sequence(out_dir)
            g = [grey(gt[i]) for i in range(len(gt))]
            o = [grey(out[i]) for i in range(len(out))]
            h, w = g[0].shape
            (oy, sh), (ox, sw) = center32_window(h), center32_window(w)
            cv = lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, *params)  # noqa: E731
            dev = lambda seq: farneback(torch.from_numpy(np.stack(seq[:-1])).to(DEV),  # noqa: E731
                                        torch.from_numpy(np.stack(seq[1:])).to(DEV), *params).cpu().numpy()
            fg_t, fo_t = dev(g), dev(o)
            d_tof, d_flow_mean, d_flow_max = [], [], []
            for t in range(1, len(g)):
                fg, fo = cv(g[t - 1], g[t]), cv(o[t - 1], o[t])
                d_flow_mean.append(float(np.abs(fg_t[t - 1] - fg).mean()))
                d_flow_max.append(float(np.abs(fg_t[t - 1] - fg).max()))
                crop = lambda f: f[oy:oy + sh, ox:ox + sw].astype(np.float64)  # noqa: E731
                tof_cv = np.sqrt(((crop(fg) - crop(fo)) ** 2).sum(-1)).mean()
                tof_t = np.sqrt(((crop(fg_t[t - 1]) - crop(fo_t[t - 1])) ** 2).sum(-1)).mean()
                d_tof.append(abs(tof_cv - tof_t))
            per_clip[clip] = {"pairs": len(d_tof), "max_abs_dtof_px": max(d_tof), "mean_abs_dtof_px": float(np.mean(d_tof)),
                              "flow_mean_abs_diff_px": float(np.mean(d_flow_mean)), "flow_max_abs_diff_px": max(d_flow_max)}
        say("farneback_cuda_fidelity", per_clip, json.dumps(per_clip))
    rng = np.random.default_rng(0)
    from vsrbench.speed import synthetic_pair

    gt, _ = synthetic_pair(33, size=SIZE, seed=1)
    g = np.stack([grey(f) for f in gt])
    t0 = time.perf_counter()
    for i in range(8):
        cv2.calcOpticalFlowFarneback(g[i], g[i + 1], None, *params)
    cv_ms = (time.perf_counter() - t0) / 8 * 1e3
    say("farneback_opencv_cpu_ms_per_flow", cv_ms, f"{cv_ms:.1f} ms per 720x576 flow (OpenCV, one CPU thread)")
    gd = torch.from_numpy(g).to(DEV)
    for graphs in ("1", "0"):
        os.environ["VSRBENCH_CUDA_GRAPHS"] = graphs
        how = "CUDA graph" if graphs == "1" else "eager launches"
        for n in (1, 8, 32):
            s = best(lambda: farneback(gd[:n], gd[1:n + 1], *params), args.repeat)
            say(f"farneback_cuda_ms_per_flow_batch{n}_graphs{graphs}", s / n * 1e3,
                f"{s / n * 1e3:.2f} ms per 720x576 flow on CUDA, batches of {n} ({n / s:.0f} flows/s), {how}")
    os.environ["VSRBENCH_CUDA_GRAPHS"] = "1"
    from vsrbench.metrics import farneback as fb

    say("farneback_graph_failures", list(fb._GRAPHS_FAILED), f"graph capture failures: {fb._GRAPHS_FAILED}")
    del rng
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            farneback(gd[:32], gd[1:33], *params)
            sync()
        table = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=30)
        RESULTS["farneback_profile"] = table
        print(table, flush=True)


def pipeline_section(args, backbone: str) -> None:
    import cv2

    from vsrbench.evaluate import evaluate_sequence
    from vsrbench.core.io import FrameSequence, open_sequence
    from vsrbench.speed import synthetic_pair

    gt, out = synthetic_pair(args.frames, size=SIZE, seed=2)
    g_seq, o_seq = FrameSequence.from_arrays("syn", gt), FrameSequence.from_arrays("syn", out)
    five = ["psnr", "ssim", "lpips", "tof", "tlp"]
    scored = args.frames - 4
    for protocol, chunk in (("tecogan-gpu", 16), ("tecogan-gpu", 32), ("tecogan", 16)):
        if protocol == "tecogan" and args.frames > 48:  # OpenCV flows on the CPU: fewer frames suffice
            g2, o2 = FrameSequence.from_arrays("syn", gt[:48]), FrameSequence.from_arrays("syn", out[:48])
            n = 44
        else:
            g2, o2, n = g_seq, o_seq, scored
        s = best(lambda: evaluate_sequence(o2, g2, protocol=protocol, metrics=five, device=DEV,
                                           lpips_weights=backbone, chunk=chunk), max(1, args.repeat - 1))
        say(f"pipeline_{protocol}_chunk{chunk}_memory_fps", n / s,
            f"{n / s:.0f} frames/s: five metrics, protocol {protocol}, 720x576 frames in memory, chunk {chunk}")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            evaluate_sequence(o_seq, g_seq, protocol="tecogan-gpu", metrics=five, device=DEV, lpips_weights=backbone)
            sync()
        table = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=25)
        RESULTS["pipeline_profile"] = table
        print(table, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, frames in (("gt", gt), ("out", out)):
            d = Path(tmp) / name / "syn"
            d.mkdir(parents=True)
            for i, f in enumerate(frames):
                cv2.imwrite(str(d / f"{i:04d}.png"), f[..., ::-1])
        gs, os_ = open_sequence(Path(tmp) / "gt" / "syn"), open_sequence(Path(tmp) / "out" / "syn")
        s = best(lambda: evaluate_sequence(os_, gs, protocol="tecogan-gpu", metrics=five, device=DEV,
                                           lpips_weights=backbone), max(1, args.repeat - 1))
        say("pipeline_tecogan-gpu_png_fps", scored / s,
            f"{scored / s:.0f} frames/s: five metrics, protocol tecogan-gpu, 720x576 PNG files (decoding included)")
        s = best(lambda: evaluate_sequence(os_, gs, protocol="tecogan-gpu", metrics=["psnr", "ssim", "lpips", "tof",
                                                                                       "tlp", "ewarp"], device=DEV,
                                           lpips_weights=backbone), 1)
        say("pipeline_tecogan-gpu_png_six_fps", scored / s,
            f"{scored / s:.0f} frames/s: the five + E_warp (host), protocol tecogan-gpu, PNG files")


def metric_section(args, backbone: str) -> None:
    from vsrbench.metrics import lpips, psnr, ssim
    from vsrbench.speed import synthetic_pair

    gt, out = synthetic_pair(32, size=SIZE, seed=4)
    g = torch.from_numpy(np.stack(gt)).permute(0, 3, 1, 2).to(DEV)
    o = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(DEV)
    for label, fn in (("psnr_basicsr-y", lambda: psnr(o, g, protocol="basicsr-y")),
                      ("psnr_basicsr-rgb", lambda: psnr(o, g, protocol="basicsr-rgb")),
                      ("ssim_basicsr-y", lambda: ssim(o, g, protocol="basicsr-y")),
                      ("ssim_basicsr-rgb", lambda: ssim(o, g, protocol="basicsr-rgb")),
                      ("ssim_tecogan", lambda: ssim(o, g, protocol="tecogan")),
                      ("lpips_alex", lambda: lpips(o, g, lpips_weights=backbone))):
        s = best(fn, args.repeat)
        say(f"metric_{label}_cuda_fps", 32 / s, f"{32 / s:.0f} frames/s ({label}, batch of 32 uint8 CUDA tensors)")


def tecogan_section(args) -> None:
    from vsrbench.baselines.frvsr import FRNet, FRVSRModel

    torch.manual_seed(0)
    net = FRNet(num_blocks=10, scale=4)
    model = FRVSRModel(net, name="tecogan", device=DEV, num_pad_front=0, chunk=16)
    rng = np.random.default_rng(0)
    lr = [rng.integers(0, 256, (SIZE[0] // 4, SIZE[1] // 4, 3), dtype=np.uint8) for _ in range(100)]
    s = best(lambda: list(model.upscale(lr)), 2)
    say("tecogan_x4_upscale_fps", 100 / s, f"{100 / s:.0f} frames/s: TecoGAN x4, 180x144 -> 720x576, one sequence, "
        "uint8 frames in, float32 frames back on the host (fp32, no TF32)")
    x = torch.rand(8, 40, 3, SIZE[0] // 4, SIZE[1] // 4, device=DEV)
    for n in (1, 8):
        def run():
            with torch.inference_mode():
                from vsrbench.baselines.registry import full_fp32

                with full_fp32():
                    model.net.forward_sequence(x[:n])
        s = best(run, 2)
        say(f"tecogan_x4_forward_batch{n}_fps", 40 * n / s,
            f"{40 * n / s:.0f} frames/s: TecoGAN x4 recurrence on the device, {n} sequence(s) at once")


def workers_section(args) -> None:
    """``vsrbench evaluate --workers N`` on the CPU cores: ``--wseq`` sequences of ``--wframes`` 720x576 PNG frames."""
    import subprocess

    import cv2

    from vsrbench.speed import synthetic_pair

    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.wseq):
            gt, out = synthetic_pair(args.wframes, size=SIZE, seed=10 + k)
            for name, frames in (("gt", gt), ("out", out)):
                d = Path(tmp) / name / f"s{k}"
                d.mkdir(parents=True)
                for i, f in enumerate(frames):
                    cv2.imwrite(str(d / f"{i:04d}.png"), f[..., ::-1])
        rows = {}
        for n in (1, 4, 8):
            res = Path(tmp) / f"res{n}"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vsrbench", "evaluate", "--gt", str(Path(tmp) / "gt"), "--pred",
                            str(Path(tmp) / "out"), "--protocol", "tecogan", "--metrics", "psnr,ssim,tof", "--device",
                            "cpu", "--workers", str(n), "--out", str(res)], check=True, capture_output=True)
            s = time.perf_counter() - t0
            rows[n] = (res / "frames.csv").read_text()
            scored = args.wseq * (args.wframes - 4)
            say(f"workers_{n}_cpu_fps", scored / s, f"{scored / s:.1f} frames/s: evaluate --workers {n} on CPU, "
                f"{args.wseq} sequences x {args.wframes - 4} scored 720x576 frames, psnr,ssim,tof (tecogan), "
                f"process start included ({s:.1f} s)")
        say("workers_identical_frames_csv", rows[1] == rows[4] == rows[8], "frames.csv identical for 1, 4, 8 workers: "
            f"{rows[1] == rows[4] == rows[8]}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="gpu.json")
    ap.add_argument("--frames", type=int, default=132)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shared", default=os.environ.get("VSRBENCH_SHARED"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--wseq", type=int, default=8, help="workers section: sequences")
    ap.add_argument("--wframes", type=int, default=10, help="workers section: frames per sequence")
    ap.add_argument("--profile", action="store_true", help="print a CUDA kernel profile of one Farneback batch")
    ap.add_argument("--size", default="576x720", help="HxW of the synthetic frames")
    ap.add_argument("--only", default=None, help="comma-separated sections: farneback,pipeline,metrics,tecogan")
    args = ap.parse_args()
    global DEV, SIZE
    DEV = args.device
    SIZE = tuple(int(v) for v in args.size.split("x"))
    if DEV.startswith("cuda") and not torch.cuda.is_available():
        print("needs a CUDA device (or --device cpu for a smoke run)", file=sys.stderr)
        return 2
    from vsrbench.speed import write_random_backbone

    gpu = torch.cuda.get_device_name(0) if DEV.startswith("cuda") else "none (cpu smoke run)"
    say("environment", {"gpu": gpu, "torch": torch.__version__, "python": platform.python_version(),
                        "cpus": os.cpu_count()}, f"{gpu}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    shared = Path(args.shared) if args.shared else None
    sections = (args.only or "farneback,pipeline,metrics,tecogan,workers").split(",")
    with tempfile.TemporaryDirectory() as tmp:
        backbone = str(write_random_backbone(tmp))
        for name in sections:
            t0 = time.perf_counter()
            try:
                {"farneback": lambda: farneback_section(args, shared), "pipeline": lambda: pipeline_section(args, backbone),
                 "metrics": lambda: metric_section(args, backbone), "tecogan": lambda: tecogan_section(args),
                 "workers": lambda: workers_section(args)}[name]()
            except Exception as e:  # noqa: BLE001 - report and go on with the other sections
                say(f"{name}_error", repr(e), f"section {name} failed: {e!r}")
            print(f"[section {name}: {time.perf_counter() - t0:.1f} s]", flush=True)
    Path(args.out).write_text(json.dumps(RESULTS, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
