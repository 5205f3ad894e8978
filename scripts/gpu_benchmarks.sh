#!/usr/bin/env bash
# The GPU half of the batch-scoring benchmarks, for a model already trained: the encoder's forward pass alone in
# the ways it could run (benchmarks/gpu_inference.py) and cut to fewer layers (benchmarks/layers.py), the CPU half of file scoring alone on the machine's cores
# (benchmarks/cpu_side.py, encoder stubbed), then file scoring end to end against the plain pipeline loop
# (benchmarks/throughput.py, with a profile of the main thread). scripts/gpu_session.sh ends with it; alone, with
# the shipped model (~62 MB travels):
#   device run: LOG=$OUT/benchmarks.log bash scripts/gpu_benchmarks.sh   (carry: .carry/dev_texts.parquet;
#   timeout_s 300)
# CPU smoke run: DEVICE=cpu REVIEWS=40 PYTHON=.venv/bin/python bash scripts/gpu_benchmarks.sh
set -uo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3} MODEL=${MODEL:-sentiscore-e5-ru} DEVICE=${DEVICE:-cuda} REVIEWS=${REVIEWS:-40000}
TEXTS=.carry/dev_texts.parquet
if [[ -n "${LOG:-}" ]]; then exec > >(tee "$LOG") 2>&1; fi
step() { echo "== $* ($SECONDS s)"; "$@" || echo "== failed with $?: $*"; }
step "$PYTHON" benchmarks/gpu_inference.py --model "$MODEL" --texts "$TEXTS" --device "$DEVICE" \
  --reviews "$((REVIEWS < 8000 ? REVIEWS : 8000))"
step "$PYTHON" benchmarks/layers.py --model "$MODEL" --device "$DEVICE" --windows "$([[ $DEVICE == cuda ]] && echo 512 || echo 8)"
step "$PYTHON" benchmarks/cpu_side.py --model "$MODEL" --texts "$TEXTS" --reviews "$((REVIEWS < 24000 ? REVIEWS : 24000))" \
  --workers 0 8
step "$PYTHON" benchmarks/throughput.py --device "$DEVICE" --model "$MODEL" --texts "$TEXTS" --reviews "$REVIEWS" --profile \
  --compare-model-thread
echo "== benchmarks done ($SECONDS s)"
sleep 1  # lets tee write the last lines
