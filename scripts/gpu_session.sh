#!/usr/bin/env bash
# One GPU session's whole job in one command: train the encoder on every corpus (held-out parts excluded) for 5
# epochs, keep what scripts/gpu_run.py's rule picks among the last three epochs and their average, predict the
# held-out reviews; run scripts/gpu_benchmarks.sh with the new model; then, if it can end before DEADLINE seconds
# from the start, train the same recipe for 3 epochs on the base's first SHALLOW (4) layers only: its held-out
# metrics and its speed (10,000 reviews/s needs ~3.5x less arithmetic per review than the 12-layer encoder;
# README.md, "Measured"). The corpus ablations, measured in the 2026-11-27 session, run with --ablations instead
# of --shallow. Each step runs even if one before it failed. Weights, held-out predictions, results.json and
# session.log (all that was printed) land in $OUT: 8 files, as many as can come back.
#
# Here, first:  PYTHONPATH=src .venv/bin/python scripts/prepare_training.py --data-dir ../shared/data
#               (.carry/: the 4-bit base, tokenizer, tokenised corpora and dev texts, ~47 MB)
# then a CPU smoke run of this script: TINY=1 OUT=/tmp/gpu-smoke PYTHON=.venv/bin/python bash scripts/gpu_session.sh
# The working tree that travels is limited to 64 MiB and the shipped models fill most of it, so send it from a
# branch without the shipped encoder, which the run does not need:
#   git switch -c gpu-run && git rm -rq models/sentiscore-e5-ru && git commit -qm "gpu run"
#   device run: bash scripts/gpu_session.sh   (carry: .carry; timeout_s 560)
#   if the shallow step was skipped for time, straight after on the warm machine (a second call; carry .carry):
#     PYTHONPATH=src python3 scripts/gpu_run.py --carry .carry --out "$OUT" --epochs 3 --shallow 4   (timeout_s 200)
#   git switch main && git branch -D gpu-run
#   PYTHONPATH=src:scripts .venv/bin/python scripts/assemble_model.py RUN_FILES models/sentiscore-e5-ru
#   then the fast model's heads, trained on the encoder replaced: .venv/bin/python scripts/fast_model.py (~30 min)
set -uo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
OUT=${OUT:?OUT must name the folder that comes back}
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
step() { echo "== $* ($SECONDS s)"; "$@" || echo "== failed with $?: $*"; }
if [[ -n "${TINY:-}" ]]; then
  train=(--tiny) shallow_epochs=() device=cpu reviews=40 deadline=${DEADLINE:-100000}
else
  train=(--epochs "${EPOCHS:-5}") shallow_epochs=(--epochs 3) device=cuda reviews=${REVIEWS:-40000}
  deadline=${DEADLINE:-500}
fi
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}"
PYTHONPATH=src:scripts step "$PYTHON" scripts/assemble_model.py "$OUT" /tmp/sentiscore-trained --carry .carry
MODEL=/tmp/sentiscore-trained DEVICE=$device REVIEWS=$reviews PYTHON=$PYTHON bash scripts/gpu_benchmarks.sh
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}" "${shallow_epochs[@]}" \
  --shallow "${SHALLOW:-4}" --budget "$((deadline - SECONDS))"
echo "== done ($SECONDS s)"
sleep 1  # lets tee write the last lines
