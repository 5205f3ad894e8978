#!/usr/bin/env bash
# One GPU session's whole job in one command: train the encoder on every corpus (held-out parts excluded) for 5
# epochs, keep what scripts/gpu_run.py's rule picks among the last three epochs and their average, predict the
# held-out reviews; cut that model to its first SHALLOW (4) layers and fine-tune it for 3 epochs, the fast model,
# saved whole in FAST (/tmp/sentiscore-e5-fast: it cannot come back with the main model's weights, as at most 8
# files come back from a call, so a second call sends it); then, while the time lasts (DEADLINE seconds from the
# start), the benchmarks of file scoring on the GPU, most wanted first: both models end to end against the plain
# pipeline loop (benchmarks/throughput.py), the CPU half alone on the machine's cores (benchmarks/cpu_side.py,
# encoder stubbed), the encoder's forward pass in the ways it could run (benchmarks/gpu_inference.py). Each step
# runs even if one before it failed. The main weights, held-out predictions, results.json and session.log (all
# that was printed) land in $OUT: 8 files, as many as can come back.
#
# Here, first:  PYTHONPATH=src .venv/bin/python scripts/prepare_training.py --data-dir ../shared/data
#               (.carry/: the 4-bit base, tokenizer, tokenised corpora and dev texts, ~47 MB)
# then a CPU smoke run of this script: TINY=1 OUT=/tmp/gpu-smoke PYTHON=.venv/bin/python bash scripts/gpu_session.sh
# The working tree that travels is limited to 64 MiB and the shipped models fill most of it, so send it from a
# branch without the shipped encoder, which the run does not need:
#   git switch -c gpu-run && git rm -rq models/sentiscore-e5-ru && git commit -qm "gpu run"
#   device run: bash scripts/gpu_session.sh   (carry: .carry; timeout_s 585)
#   at once after it, on the warm machine (it goes back after 30 s idle), the fast model in files of 15 MB:
#     tar cC /tmp sentiscore-e5-fast | split -b 15M - "$OUT/fast.tar."
#   git switch main && git branch -D gpu-run
#   PYTHONPATH=src:scripts .venv/bin/python scripts/assemble_model.py RUN_FILES models/sentiscore-e5-ru
#   cat FILES/fast.tar.* | tar xC models
set -uo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
OUT=${OUT:?OUT must name the folder that comes back}
FAST=${FAST:-/tmp/sentiscore-e5-fast}
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
step() { echo "== $* ($SECONDS s)"; "$@" || echo "== failed with $?: $*"; }
# A benchmark runs only if it has a minute before the deadline, and is stopped at it.
timed() {
  local left=$((deadline - SECONDS))
  if ((left < 60)); then echo "== skipped, ${left} s before the deadline: $*"; return; fi
  step timeout "$left" "$@"
}
if [[ -n "${TINY:-}" ]]; then
  train=(--tiny) shallow_epochs=() device=cpu reviews=40 deadline=${DEADLINE:-100000}
else
  train=(--epochs "${EPOCHS:-5}") shallow_epochs=(--epochs 3) device=cuda reviews=${REVIEWS:-40000}
  deadline=${DEADLINE:-570}
fi
trained=/tmp/sentiscore-trained texts=.carry/dev_texts.parquet
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}"
PYTHONPATH=src:scripts step "$PYTHON" scripts/assemble_model.py "$OUT" "$trained" --carry .carry
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}" "${shallow_epochs[@]}" \
  --shallow "${SHALLOW:-4}" --save "$FAST" --budget "$((deadline - SECONDS))"
timed "$PYTHON" benchmarks/throughput.py --device "$device" --model "$FAST" --plain-model "$trained" --texts "$texts" \
  --reviews "$reviews" --profile
timed "$PYTHON" benchmarks/throughput.py --device "$device" --model "$trained" --texts "$texts" --reviews "$reviews"
timed "$PYTHON" benchmarks/cpu_side.py --model "$FAST" --texts "$texts" --reviews "$((reviews < 8000 ? reviews : 8000))" \
  --workers 0 8
timed "$PYTHON" benchmarks/gpu_inference.py --model "$FAST" --texts "$texts" --device "$device" \
  --reviews "$((reviews < 8000 ? reviews : 8000))"
echo "== done ($SECONDS s)"
sleep 1  # lets tee write the last lines
