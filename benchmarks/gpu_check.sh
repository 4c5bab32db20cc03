#!/usr/bin/env bash
# The one prepared run for a lent GPU machine (the `device` tool): GPU paths + training throughput.
#
#   device run: bash benchmarks/gpu_check.sh           (timeout_s 540; about 6 minutes on an H100/H200)
#
# That machine's python3 already has torch, numpy, tokenizers, onnx and onnxruntime; our code comes
# from the tree (PYTHONPATH), nothing is installed. Every step writes into $OUT so a step that fails
# or times out still returns the ones before it. Figures go into training/README.md by hand.
set -uo pipefail
OUT=${OUT:-/tmp/scimult-gpu-check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD:$PWD/training" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
log() { echo "== $* ($(date +%T))" | tee -a "$OUT/steps.txt"; }

log "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"

# 1. Throughput of the paper's shape (issue 9 item 7): bf16, seq 256, batch 32 + 1 hard negative.
log "bench_train scimult-base, 300 steps"
timeout 240 python3 benchmarks/bench_train.py --steps 300 --json 2>&1 | tee "$OUT/bench_train.txt"
log "bench_train scimult-base, torch.compile, 200 steps"
timeout 180 python3 benchmarks/bench_train.py --steps 200 --compile --json 2>&1 | tee "$OUT/bench_train_compile.txt"

# 2. The GPU path of the real loop: bf16 autocast, a tiny preset run end to end, checkpoint + export.
log "pytest: training loop on cuda"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/training/test_train_loop.py -k "gpu or bf16" 2>&1 | tee "$OUT/pytest.txt"
log "done"
