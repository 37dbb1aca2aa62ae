"""Peak memory of hidden-state extraction as the number of texts grows.

Each n runs in a fresh subprocess (so ru_maxrss, which only rises, is per run) on a small local Llama
(hidden 256, 4 layers, 5 stored states). Reported: the stored float16 result, tracemalloc's peak
(numpy + Python objects) and that peak minus the result, and the process max RSS (includes torch).
Bounded memory shows as a flat "peak - result" and an RSS that grows by about the result size only.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_hidden_memory.py [n ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")

CHILD = r"""
import json, random, resource, sys, time, tracemalloc
import torch
torch.set_num_threads(1)
sys.path.insert(0, "tests/analysis")
from analysis_tiny import char_tokenizer, CHARS
from transformers import LlamaConfig, LlamaForCausalLM
from mathxfer.analysis.hidden import HiddenConfig, extract_hidden

n, cache = int(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                                     num_attention_heads=4, num_key_value_heads=4, pad_token_id=0)).eval()
rng = random.Random(0)
texts = ["".join(rng.choice(CHARS) for _ in range(rng.randint(20, 200))) for _ in range(n)]
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
out = extract_hidden(model, char_tokenizer(), texts, model_id="bench", cache_dir=cache,
                     config=HiddenConfig(batch_size=16, chunk_size=128))
seconds = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"n": n, "result_kib": out.features.nbytes / 1024, "traced_peak_kib": peak / 1024,
                  "peak_minus_result_kib": (peak - out.features.nbytes) / 1024,
                  "rss_growth_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
                  "seconds": seconds}))
"""


def main(sizes: list[int]) -> None:
    print(f"{'n':>6} {'result KiB':>11} {'traced peak KiB':>16} {'peak-result KiB':>16} {'RSS growth MiB':>15} {'s':>6}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as cache:
            line = subprocess.run([sys.executable, "-c", CHILD, str(n), cache], check=True, capture_output=True,
                                  text=True).stdout.strip().splitlines()[-1]
        r = json.loads(line)
        print(f"{r['n']:>6} {r['result_kib']:>11.0f} {r['traced_peak_kib']:>16.0f} {r['peak_minus_result_kib']:>16.0f} "
              f"{r['rss_growth_mib']:>15.1f} {r['seconds']:>6.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [256, 1024, 4096])
