"""`make eval-llm`: evaluate rules, LLM and merged against the real local model, and save the baseline.

Fetches the model (evals.local_llm), starts llama.cpp's server on 127.0.0.1, runs
`coach eval --critic merged` on an evenly spread subset, writes evals/out/llm.{json,md} and
evals/baseline.json. Takes about a minute a sheet on a 2-core machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from evals.local_llm import MODEL_NAME, fetch, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
LIMIT = os.environ.get("EVAL_LLM_LIMIT", "10")


def main() -> int:
    port = free_port()
    out = ROOT / "evals" / "out"
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(fetch(), port, out / "llama-server.log")
    env = {**os.environ, "COACH_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "COACH_LLM_MODEL": MODEL_NAME,
           "COACH_LLM_STRUCTURED": os.environ.get("COACH_LLM_STRUCTURED", "function_calling"),
           "COACH_LLM_TIMEOUT": "240", "COACH_DATA_DIR": str(out / "data")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "coach", "eval", "--critic", "merged", "--limit", LIMIT,
             "--dataset", "evals/devset.jsonl", "evals/adversarial.jsonl",
             "--json", str(out / "llm.json"), "--report", str(out / "llm.md"), "--save-baseline", str(ROOT / "evals" / "baseline.json")],
            env=env, cwd=ROOT, capture_output=True, text=True)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr[-4000:])
        return done.returncode
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
