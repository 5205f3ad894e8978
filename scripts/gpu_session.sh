#!/usr/bin/env bash
# One GPU session's whole job in one command: train the encoder on every corpus (held-out parts excluded), predict
# the held-out reviews, retrain on corpus subsets while BUDGET seconds last, then benchmark the CPU half of file
# scoring alone on the machine's cores, and file scoring with the new model against the plain pipeline loop on the
# GPU. Weights, held-out predictions and logs land in $OUT (8 files at most come back); the throughput table is the
# last thing printed.
#
# Here, first:  PYTHONPATH=src .venv/bin/python scripts/prepare_training.py --data-dir ../shared/data
#               (.carry/: the 4-bit base, tokenizer, tokenised corpora and dev texts, ~47 MB)
# then a CPU smoke run of this script: TINY=1 OUT=/tmp/gpu-smoke PYTHON=.venv/bin/python bash scripts/gpu_session.sh
# The working tree that travels is limited to 64 MiB and the shipped models fill most of it, so send it from a
# branch without the shipped encoder, which the run does not need:
#   git switch -c gpu-run && git rm -rq models/sentiscore-e5-ru && git commit -qm "gpu run"
#   device run: bash scripts/gpu_session.sh   (carry: .carry; timeout_s 540)
#   git switch main && git branch -D gpu-run
#   PYTHONPATH=src:scripts .venv/bin/python scripts/assemble_model.py RUN_FILES models/sentiscore-e5-ru
set -euo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
OUT=${OUT:?OUT must name the folder that comes back}
mkdir -p "$OUT"
if [[ -n "${TINY:-}" ]]; then
  "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" --tiny --budget 0
  device=cpu reviews=40
else
  "$PYTHON" scripts/gpu_run.py --carry .carry --out "$OUT" --epochs "${EPOCHS:-3}" --budget "${BUDGET:-330}"
  device=cuda reviews=${REVIEWS:-20000}
fi
PYTHONPATH=src:scripts "$PYTHON" scripts/assemble_model.py "$OUT" /tmp/sentiscore-trained --carry .carry
"$PYTHON" benchmarks/cpu_side.py --model /tmp/sentiscore-trained --texts .carry/dev_texts.parquet \
  --reviews "$((reviews < 8000 ? reviews : 8000))" --workers 0 8 14
"$PYTHON" benchmarks/throughput.py --device "$device" --model /tmp/sentiscore-trained \
  --texts .carry/dev_texts.parquet --reviews "$reviews"
