#!/usr/bin/env bash
# One device session (a machine with an NVIDIA GPU, no network): install vsrbench without dependencies into
# the machine's Python (torch, OpenCV, scikit-image, ... are there; the lpips wheel travels in .whl/), run the
# CUDA tests, then benchmarks/gpu.py. Real frames: VSRBENCH_SHARED (default: .devshared, a copy of ../shared/data).
set -uo pipefail
export PYTHONUNBUFFERED=1
export VSRBENCH_SHARED="${VSRBENCH_SHARED:-$PWD/.devshared}"
OUT="${OUT:-/tmp/vsrbench-gpu}"; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>&1 | tail -3
nvidia-smi -L
python3 -c "import torch, cv2; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cv2', cv2.__version__)"
TESTS="${TESTS:-tests/test_gpu_pipeline.py tests/test_farneback_torch.py tests/test_evaluate.py tests/test_frvsr.py tests/test_enet.py tests/test_duf.py tests/test_tfops.py tests/test_resize.py tests/test_ewarp.py}"
# shellcheck disable=SC2086
timeout "${TEST_TIMEOUT:-200}" python3 -m pytest -q -p no:cacheprovider -m gpu $TESTS 2>&1 | tee "$OUT/pytest_gpu.log" | tail -25
timeout "${BENCH_TIMEOUT:-300}" python3 benchmarks/gpu.py --out "$OUT/gpu.json" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
