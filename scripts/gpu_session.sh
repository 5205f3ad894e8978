#!/usr/bin/env bash
# One GPU session's whole job in one command: train the encoder on every corpus (held-out parts excluded) for 5
# epochs, keep what scripts/gpu_run.py's rule picks among the last three epochs and their average, predict the
# held-out reviews; cut that model to its first SHALLOW (4) layers and fine-tune it for 3 epochs, the fast model,
# saved whole in FAST (/tmp/sentiscore-e5-fast: it cannot come back with the main model's weights, as at most 8
# files come back from a call, so a second call sends it); then, while the time lasts (DEADLINE seconds from the
# start), the benchmarks of file scoring on the GPU with the fast model, most wanted first
# (scripts/gpu_benchmarks.sh, its plain loop over the 12-layer model). Each step runs even if one before it
# failed. The main weights, held-out predictions, results.json and session.log (all that was printed) land in
# $OUT: 8 files, as many as can come back.
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
# RECIPE: more of scripts/gpu_run.py's options for the main run, e.g. "--seeds 13 14 --film-score-weight 3" (with
# EPOCHS=3, two seeds take ~6 min of an H100: 174-189 s per 3-epoch run, leaving no time for the fast model)
read -ra recipe <<< "${RECIPE:-}"
if [[ -n "${TINY:-}" ]]; then
  train=(--tiny "${recipe[@]}") shallow_epochs=() device=cpu reviews=40 deadline=${DEADLINE:-100000}
else
  train=(--epochs "${EPOCHS:-5}" "${recipe[@]}") shallow_epochs=(--epochs 3) device=cuda reviews=${REVIEWS:-40000}
  deadline=${DEADLINE:-570}
fi
trained=/tmp/sentiscore-trained
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}"
PYTHONPATH=src:scripts step "$PYTHON" scripts/assemble_model.py "$OUT" "$trained" --carry .carry
step "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" "${train[@]}" "${shallow_epochs[@]}" \
  --shallow "${SHALLOW:-4}" --save "$FAST" --budget "$((deadline - SECONDS))"
MODEL=$FAST PLAIN_MODEL=$trained DEVICE=$device REVIEWS=$reviews DEADLINE=$((deadline - SECONDS)) PYTHON=$PYTHON \
  bash scripts/gpu_benchmarks.sh
echo "== done ($SECONDS s)"
sleep 1  # lets tee write the last lines
