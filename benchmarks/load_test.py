"""Load test of ``activation-rm serve`` on loopback: N concurrent clients, one sample per request (as RL clients
send them), a fixed number of requests, with and without dynamic batching.

Reports throughput, p50/p99 latency and errors (target: zero) per mode, the server's mean batch size, and the
throughput ratio batched / unbatched. Traffic goes to 127.0.0.1 only; each run is bounded by --requests and
--max-seconds.

    python benchmarks/load_test.py                      # tiny random model (server overhead, fast)
    python benchmarks/load_test.py --embedded --clients 16 --requests 96   # embedded SmolLM2-135M-Instruct
    python benchmarks/load_test.py --artifact ARTIFACT  # any pointwise artifact
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def tiny_artifact(workdir: Path) -> str:
    """A tiny random Llama saved to disk and a 3-step artifact fitted on it (uses tests/tiny.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tiny import tiny_model, tiny_tokenizer

    from activation_rm import ActivationRM, load_backbone

    model_dir = workdir / "tiny-llama"
    tiny_model("llama").save_pretrained(model_dir)
    tiny_tokenizer().save_pretrained(model_dir)
    backbone = load_backbone(str(model_dir), device="cpu", dtype="float32")
    examples = [{"prompt": "What is two plus two?", "response": "Four.", "label": "yes"},
                {"prompt": "What is two plus two?", "response": "The quick brown fox.", "label": "no"}] * 3
    rm = ActivationRM.fit(backbone, examples, criterion="the answer is correct and short", steps=3, n_contexts=4,
                          progress=False)
    return str(rm.save(workdir / "tiny-artifact"))


def embedded_artifact(workdir: Path, heads: int = 8) -> str:
    """An artifact on the embedded SmolLM2-135M-Instruct with ``heads`` random heads steered (no fit: scoring
    costs the same as with a fitted artifact, and a fit takes minutes on a CPU)."""
    import torch

    from activation_rm import ActivationRM, JudgeTemplate, load_backbone

    backbone = load_backbone(None, device="cpu", dtype="float32")
    shape = (backbone.num_layers, backbone.num_heads)
    generator = torch.Generator().manual_seed(0)
    mask = torch.zeros(shape, dtype=torch.bool)
    mask.view(-1)[torch.randperm(mask.numel(), generator=generator)[:heads]] = True
    means = torch.randn(*shape, backbone.head_dim, generator=generator) * 0.1
    rm = ActivationRM(backbone, JudgeTemplate(criterion="the answer is correct and short"), means, mask)
    return str(rm.save(workdir / "embedded-artifact"))


def samples() -> list[tuple[str, str]]:
    """(prompt, response) pairs of varied length from the bundled examples."""
    out = []
    for name in ("short_correct.jsonl", "honest_not_flattering.jsonl"):
        path = ROOT / "src" / "activation_rm" / "apps" / "criteria" / name
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out += [(record["prompt"], record["chosen"]), (record["prompt"], record["rejected"])]
    return out


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``activation-rm serve`` in a child process on 127.0.0.1 (stopped by its own pid); its output goes to
    ``log_path`` (a pipe could fill up during a long run and stall the server). ``serve_args`` are extra options."""

    def __init__(self, artifact: str, log_path: Path, serve_args: Sequence[str] = (), threads: int | None = None,
                 device: str = "cpu", dtype: str = "float32") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "activation_rm.apps.cli", "serve", artifact, "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", device, "--dtype", dtype, "--log-level", "warning",
                   *serve_args]
        command += ["--threads", str(threads)] if threads else []
        self.log = log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text(encoding='utf-8')[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("server did not become healthy")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


async def run_load(url: str, clients: int, requests: int, max_seconds: float) -> dict:
    pairs = samples()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        for index in counter:
            if time.monotonic() > deadline:
                errors["not sent (time limit)"] = errors.get("not sent (time limit)", 0) + 1
                continue
            prompt, response = pairs[index % len(pairs)]
            started = time.perf_counter()
            try:
                reply = await http.post("/score", json={"prompts": [prompt], "responses": [response]})
                ok = reply.status_code == 200 and len(reply.json()["scores"]) > 0
                key = None if ok else f"HTTP {reply.status_code}"
            except httpx.HTTPError as err:
                key = type(err).__name__
            latencies.append(time.perf_counter() - started)
            if key:
                errors[key] = errors.get(key, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(latencies), "seconds": round(elapsed, 3),
            "throughput_rps": round(len(latencies) / elapsed, 2),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "errors": sum(errors.values()), "error_kinds": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--artifact", help="serve this artifact (default: a tiny random model)")
    source.add_argument("--embedded", action="store_true",
                        help="serve the embedded SmolLM2-135M-Instruct (8 random heads steered, no fit)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per mode (default 1000)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop sending after this long, per mode")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--server-threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--warmup", type=int, default=16, help="requests sent before measuring (default 16)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="arm-load-") as workdir:
        if args.artifact:
            artifact, label = args.artifact, args.artifact
        elif args.embedded:
            artifact, label = embedded_artifact(Path(workdir)), "embedded SmolLM2-135M-Instruct (CPU, float32, 8 heads)"
        else:
            artifact, label = tiny_artifact(Path(workdir)), "tiny random Llama (3 layers, 64 wide; CPU)"
        results = {}
        for mode, batching in (("batched", True), ("unbatched", False)):
            options = ["--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms)]
            server = Server(artifact, Path(workdir) / f"server-{mode}.log",
                            options + ([] if batching else ["--no-batching"]), args.server_threads)
            try:
                server.wait_ready()
                asyncio.run(run_load(server.url, min(args.clients, 8), args.warmup, args.max_seconds))
                info_before = httpx.get(server.url + "/info", timeout=10).json()["server"]["batch_stats"]
                result = asyncio.run(run_load(server.url, args.clients, args.requests, args.max_seconds))
                stats = httpx.get(server.url + "/info", timeout=10).json()["server"]["batch_stats"]
                batches = stats["batches"] - info_before["batches"]
                items = stats["items"] - info_before["items"]
                result["server_batches"] = batches
                result["mean_batch_items"] = round(items / batches, 2) if batches else 0.0
                results[mode] = result
            finally:
                server.stop()
    ratio = results["batched"]["throughput_rps"] / max(results["unbatched"]["throughput_rps"], 1e-9)
    summary = {"model": label, "server_threads": args.server_threads, "clients": args.clients, "requests": args.requests,
               "max_batch_size": args.max_batch_size, "max_wait_ms": args.max_wait_ms, "cpus": os.cpu_count(),
               "load_average_1min": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
               "results": results, "throughput_ratio_batched_over_unbatched": round(ratio, 2)}
    print(f"model: {label}; {args.clients} clients x {args.requests} requests (1 sample each), loopback; "
          f"{os.cpu_count()} CPUs, 1-min load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(f"{'mode':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'batches':>8} {'items/batch':>12}")
    for mode, r in results.items():
        print(f"{mode:<10} {r['throughput_rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7} "
              f"{r['server_batches']:>8} {r['mean_batch_items']:>12.2f}")
    print(f"throughput ratio batched / unbatched: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
