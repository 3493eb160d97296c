"""Fairness of ``activation-rm serve`` under a heavy client: latency of 1-item requests while another client keeps
the server busy with large requests, and after a client abandons a large request.

Two phases against one server on 127.0.0.1 (a child process, as in the load test):

1. **saturated**: ``--heavy-clients`` clients send ``/score`` requests of ``--heavy-items`` responses of
   ``--heavy-chars`` characters back to back for ``--seconds``; meanwhile ``--light-clients`` clients send 1-item
   requests back to back. Reports p50 / p99 / max latency of the 1-item requests and how many heavy requests
   finished.
2. **abandoned**: ``--abandon-rounds`` times, a client sends one heavy request and hangs up after
   ``--abandon-after`` seconds, then a 1-item request is sent at once. Its latency shows whether the server keeps
   scoring work nobody will read.

Run it against the current code and against an older one (``--src DIR``: the ``src`` folder of another checkout,
e.g. ``git archive COMMIT src | tar -x -C /tmp/old``) to compare before and after. Bounded by ``--seconds`` and
the rounds; traffic goes to 127.0.0.1 only.

    python benchmarks/fairness.py --server-threads 1                        # tiny random model
    python benchmarks/fairness.py --server-threads 1 --src /tmp/old/src     # the same against older code
    python benchmarks/fairness.py --embedded --server-threads 1 --seconds 120   # embedded SmolLM2-135M-Instruct
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from load_test import Server, embedded_artifact, samples, tiny_artifact  # noqa: E402
from soak import latency_summary  # noqa: E402


@dataclass
class Requests:
    """The bodies the clients send: heavy requests of long responses and 1-item requests, drawn from the bundled
    examples (deterministic: no random choice)."""

    heavy_items: int
    heavy_chars: int
    pairs: list[tuple[str, str]] = field(default_factory=samples)

    def heavy(self, n: int) -> dict:
        prompt, _ = self.pairs[n % len(self.pairs)]
        text = " ".join(r for _, r in self.pairs)
        responses = []
        for i in range(self.heavy_items):
            start = (n * self.heavy_items + i) * 97 % len(text)
            piece = (text[start:] + " " + text) * (1 + self.heavy_chars // max(1, len(text)))
            responses.append(piece[: self.heavy_chars])
        return {"prompts": [prompt] * self.heavy_items, "responses": responses}

    def light(self, n: int) -> dict:
        prompt, response = self.pairs[n % len(self.pairs)]
        return {"prompts": [prompt], "responses": [response]}


@dataclass
class Phase:
    """What one phase saw: light latencies (seconds), heavy requests finished, and every non-200 reply."""

    light: list[float] = field(default_factory=list)
    heavy_done: int = 0
    heavy_seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1

    def report(self) -> dict:
        return {"light": latency_summary(self.light), "heavy_finished": self.heavy_done,
                "heavy": latency_summary(self.heavy_seconds), "errors": self.errors}


async def _post(http: httpx.AsyncClient, body: dict, phase: Phase, timeout: float | None = None) -> bool:
    try:
        reply = await http.post("/score", json=body, **({"timeout": timeout} if timeout else {}))
    except httpx.TimeoutException:
        raise
    except httpx.HTTPError as err:
        phase.error(type(err).__name__)
        return False
    if reply.status_code != 200:
        phase.error(f"HTTP {reply.status_code}")
        return False
    return True


async def saturated(url: str, requests: Requests, heavy_clients: int, light_clients: int, seconds: float) -> Phase:
    """Heavy clients keep the server busy while light clients measure; light requests start only once every heavy
    client has sent its first request, and stop at the deadline (heavy requests in flight are then dropped)."""
    phase, deadline = Phase(), time.monotonic() + seconds
    started = asyncio.Event()

    async def heavy(http: httpx.AsyncClient, index: int) -> None:
        n = index
        while time.monotonic() < deadline:
            began = time.perf_counter()
            request = asyncio.ensure_future(_post(http, requests.heavy(n), phase))
            await asyncio.sleep(0.2)  # the request has reached the server
            started.set()
            if await request:
                phase.heavy_done += 1
                phase.heavy_seconds.append(time.perf_counter() - began)
            n += heavy_clients

    async def light(http: httpx.AsyncClient, index: int) -> None:
        await started.wait()
        n = index
        while time.monotonic() < deadline:
            began = time.perf_counter()
            if await _post(http, requests.light(n), phase):
                phase.light.append(time.perf_counter() - began)
            n += light_clients

    limits = httpx.Limits(max_connections=heavy_clients + light_clients + 2)
    async with httpx.AsyncClient(base_url=url, timeout=None, limits=limits) as http:
        heavies = [asyncio.ensure_future(heavy(http, i)) for i in range(heavy_clients)]
        await asyncio.gather(*(light(http, i) for i in range(light_clients)))
        await asyncio.wait(heavies, timeout=max(0.0, deadline - time.monotonic()))
        for task in heavies:
            task.cancel()
        await asyncio.gather(*heavies, return_exceptions=True)
    return phase


async def abandoned(url: str, requests: Requests, rounds: int, after: float) -> Phase:
    """Per round: a heavy request abandoned after ``after`` seconds, then one 1-item request, timed."""
    phase = Phase()
    async with httpx.AsyncClient(base_url=url, timeout=None) as http:
        for n in range(rounds):
            try:
                await _post(http, requests.heavy(10_000 + n), phase, timeout=after)
                phase.error("heavy request finished before it was abandoned")
            except httpx.TimeoutException:
                pass
            began = time.perf_counter()
            if await _post(http, requests.light(n), phase):
                phase.light.append(time.perf_counter() - began)
    return phase


async def idle_light(url: str, requests: Requests, count: int) -> Phase:
    """1-item requests on an idle server: the latency floor the other phases are compared against."""
    phase = Phase()
    async with httpx.AsyncClient(base_url=url, timeout=None) as http:
        for n in range(count):
            began = time.perf_counter()
            if await _post(http, requests.light(n), phase):
                phase.light.append(time.perf_counter() - began)
    return phase


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--artifact", help="serve this pointwise artifact (default: a tiny random model fitted here)")
    source.add_argument("--embedded", action="store_true",
                        help="serve the embedded SmolLM2-135M-Instruct (8 random heads steered, no fit)")
    parser.add_argument("--src", help="run the server from this src folder (an older checkout, for 'before')")
    parser.add_argument("--seconds", type=float, default=60, help="length of the saturated phase (default 60)")
    parser.add_argument("--heavy-clients", type=int, default=1, help="clients sending heavy requests (default 1)")
    parser.add_argument("--heavy-items", type=int, default=16, help="items per heavy request (default 16)")
    parser.add_argument("--heavy-chars", type=int, default=8000, help="characters per heavy response (8000)")
    parser.add_argument("--light-clients", type=int, default=1, help="clients sending 1-item requests (default 1)")
    parser.add_argument("--abandon-rounds", type=int, default=5, help="abandoned heavy requests (default 5)")
    parser.add_argument("--abandon-after", type=float, default=1.0, help="seconds before hanging up (default 1)")
    parser.add_argument("--idle-requests", type=int, default=20, help="1-item requests on the idle server (20)")
    parser.add_argument("--server-threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="extra option for 'activation-rm serve' (repeatable; e.g. --serve-arg=--no-batching)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--out", help="write the JSON report here")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, artifact: str, label: str, workdir: Path) -> dict:
    requests = Requests(args.heavy_items, args.heavy_chars)
    server = Server(artifact, workdir / "server.log", args.serve_arg, args.server_threads, args.device, args.dtype)
    try:
        server.wait_ready(timeout=300)
        asyncio.run(idle_light(server.url, requests, 3))  # warm-up
        idle = asyncio.run(idle_light(server.url, requests, args.idle_requests))
        busy = asyncio.run(saturated(server.url, requests, args.heavy_clients, args.light_clients, args.seconds))
        asyncio.run(idle_light(server.url, requests, 1))  # untimed: waits out what the last heavy request left
        gone = asyncio.run(abandoned(server.url, requests, args.abandon_rounds, args.abandon_after))
    finally:
        server.stop()
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    return {"model": label, "src": args.src or "this checkout", "serve_args": args.serve_arg,
            "server_threads": args.server_threads, "heavy": {"clients": args.heavy_clients, "items": args.heavy_items,
                                                              "chars": args.heavy_chars},
            "light_clients": args.light_clients, "seconds": args.seconds, "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "idle": idle.report(), "saturated": busy.report(), "abandoned": {
                "rounds": args.abandon_rounds, "after_s": args.abandon_after, **gone.report()},
            "server_tracebacks": log.count("Traceback")}


def print_report(r: dict) -> None:
    heavy = r["heavy"]
    print(f"model: {r['model']}; server code: {r['src']}; {r['cpus']} CPUs, 1-min load average "
          f"{r['load_average_1min']} at the end")
    print(f"heavy: {heavy['clients']} client(s) x {heavy['items']} items x {heavy['chars']} characters; "
          f"light: {r['light_clients']} client(s) x 1 item; saturated for {r['seconds']:.0f} s")
    print(f"{'phase':<11} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  notes")
    for name in ("idle", "saturated", "abandoned"):
        light = r[name]["light"]
        notes = ""
        if name == "saturated":
            notes = f"{r[name]['heavy_finished']} heavy requests finished (p50 {r[name]['heavy']['p50_ms']} ms)"
        if name == "abandoned":
            notes = f"{r[name]['rounds']} heavy requests abandoned after {r[name]['after_s']} s"
        errors = {k: v for phase in ("idle", "saturated", "abandoned") for k, v in r[phase]["errors"].items()}
        print(f"{name:<11} {light['count']:>5} {light['p50_ms']!s:>9} {light['p99_ms']!s:>9} {light['max_ms']!s:>9}"
              f"  {notes}")
    print(f"errors: {errors or 'none'}; tracebacks in the server log: {r['server_tracebacks']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.src:  # the server and the artifact it serves both come from that code
        src = str(Path(args.src).resolve())
        sys.path.insert(0, src)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="arm-fair-") as workdir:
        if args.artifact:
            artifact, label = args.artifact, args.artifact
        elif args.embedded:
            artifact = embedded_artifact(Path(workdir))
            label = f"embedded SmolLM2-135M-Instruct ({args.device}, {args.dtype}, 8 heads)"
        else:
            artifact, label = tiny_artifact(Path(workdir)), "tiny random Llama (3 layers, 64 wide; CPU)"
        report = run(args, artifact, label, Path(workdir))
    print_report(report)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    errors = any(report[p]["errors"] for p in ("idle", "saturated", "abandoned"))
    return 1 if errors or report["server_tracebacks"] else 0


if __name__ == "__main__":
    sys.exit(main())
