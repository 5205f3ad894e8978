#!/usr/bin/env bash
# The GPU half of the batch-scoring benchmarks, for a model already trained (by default the shipped fast model,
# whose encoder alone read 14,090 dev reviews/s on one H100 in bf16 weights): file scoring end to end against the
# plain pipeline loop (over PLAIN_MODEL, by default the same model), the model in a thread of its own and in the
# main thread, with a profile, then from Parquet instead of CSV, whose parsing costs most
# (benchmarks/throughput.py; REVIEWS, enough for 8 workers to reach their steady state), the CPU half alone on the
# machine's cores with the encoder stubbed, in up to 24 chunks (benchmarks/cpu_side.py: at 8,000 reviews, 4
# chunks, 8 workers never all worked at once), and the encoder's forward pass in the ways it could run
# (benchmarks/gpu_inference.py). Most wanted first: with DEADLINE (seconds from the start), a benchmark starts
# only with a minute left before it and is stopped at it. scripts/gpu_session.sh runs this on the model it
# trains, while its time lasts. The shipped models are larger than the 64 MiB that travels, so send the fast one
# alone (it has its own encoder), from a throwaway branch:
#   git switch -c gpu-bench && git rm -rq models/sentiscore-e5-ru && git commit -qm "gpu benchmarks"
#   device run: LOG=$OUT/benchmarks.log bash scripts/gpu_benchmarks.sh   (carry: .carry/dev_texts.parquet;
#   timeout_s 400)
# CPU smoke run: DEVICE=cpu REVIEWS=40 PYTHON=.venv/bin/python bash scripts/gpu_benchmarks.sh
set -uo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3} MODEL=${MODEL:-sentiscore-e5-fast} DEVICE=${DEVICE:-cuda} REVIEWS=${REVIEWS:-200000}
PLAIN_MODEL=${PLAIN_MODEL:-$MODEL} DEADLINE=${DEADLINE:-100000} TEXTS=.carry/dev_texts.parquet
if [[ -n "${LOG:-}" ]]; then exec > >(tee "$LOG") 2>&1; fi
timed() {
  local left=$((DEADLINE - SECONDS))
  if ((left < 60)); then echo "== skipped, ${left} s before the deadline: $*"; return; fi
  echo "== $* ($SECONDS s)"
  timeout "$left" "$@" || echo "== failed with $?: $*"
}
timed "$PYTHON" benchmarks/throughput.py --device "$DEVICE" --model "$MODEL" --plain-model "$PLAIN_MODEL" \
  --texts "$TEXTS" --reviews "$REVIEWS" --profile --compare-model-thread
timed "$PYTHON" benchmarks/throughput.py --device "$DEVICE" --model "$MODEL" --texts "$TEXTS" --reviews "$REVIEWS" \
  --input-format parquet
timed "$PYTHON" benchmarks/cpu_side.py --model "$MODEL" --texts "$TEXTS" \
  --reviews "$((REVIEWS < 48000 ? REVIEWS : 48000))" --workers 0 8 14
timed "$PYTHON" benchmarks/gpu_inference.py --model "$MODEL" --texts "$TEXTS" --device "$DEVICE" \
  --reviews "$((REVIEWS < 8000 ? REVIEWS : 8000))"
echo "== benchmarks done ($SECONDS s)"
if [[ -n "${LOG:-}" ]]; then sleep 1; fi  # lets tee write the last lines
