"""Soak test of ``activation-rm serve`` on loopback: N concurrent clients send a fixed number of requests that mix
valid bodies (/score, /compare, /get_reward) with invalid ones (wrong types, missing fields, broken JSON, wrong
content type, too long, too many items, too large, lone surrogates, deep nesting, a Host the server does not
answer to ...) and a few clients that hang up before the reply.

Reports throughput, p50/p99 latency (all requests, valid ones, invalid ones), counts by HTTP status and by kind,
requests answered with a status other than the expected one, 200s without one result per item, and the server's
resident memory at start, after the warm-up, in the middle and at the end. Exit status 1 on any 5xx, transport
error, unexpected status, wrong result shape, traceback in the server's log, or memory growth after the warm-up
above --max-growth-mib. Traffic goes to 127.0.0.1 only; the run is bounded by --requests and --max-seconds.

    python benchmarks/soak.py                                    # tiny random model, 16 clients x 2000 requests
    python benchmarks/soak.py --embedded --clients 4 --requests 400   # embedded SmolLM2-135M-Instruct
    python benchmarks/soak.py --artifact ARTIFACT --out soak.json     # any pointwise artifact
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from load_test import Server as ServeProcess  # noqa: E402
from load_test import embedded_artifact, samples, tiny_artifact  # noqa: E402

MIB = 1024 * 1024
#: server limits the invalid bodies are sized against (small, so "too large" bodies stay cheap to send)
LIMITS = {"max_chars": 4096, "max_items": 64, "max_body_bytes": 256 * 1024}
JSON_TYPE = {"content-type": "application/json"}


# ------------------------------------------------------------------------------------------------ the server
class Server(ServeProcess):
    """The load test's server process, with the server limits the invalid bodies are sized against and its
    resident memory."""

    def __init__(self, artifact: str, log_path: Path, threads: int | None, device: str, dtype: str,
                 serve_args: tuple[str, ...] = ()) -> None:
        limits = ["--max-chars", str(LIMITS["max_chars"]), "--max-items", str(LIMITS["max_items"]),
                  "--max-body-bytes", str(LIMITS["max_body_bytes"])]
        super().__init__(artifact, log_path, [*limits, *serve_args], threads, device, dtype)

    def rss_bytes(self) -> int:
        return rss_bytes(self.process.pid)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process: psutil if installed, else VmRSS from /proc (Linux)."""
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return psutil.Process(pid).memory_info().rss


# ------------------------------------------------------------------------------------------------ the requests
@dataclass(frozen=True)
class Call:
    """One request of the mix: what to send and the status it must get (0: the client hangs up early)."""

    kind: str
    path: str
    content: bytes
    expected: int
    items: int = 0  # results a 200 must hold per criterion
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_TYPE))


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _pick(rng: random.Random, pairs: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    return [pairs[rng.randrange(len(pairs))] for _ in range(n)]


def valid_call(kind: str, rng: random.Random, pairs: list[tuple[str, str]]) -> Call:
    """A body the server must score: one sample (as RL clients send), four, a compare, or an OpenRLHF query."""
    n = {"score_1": 1, "score_4": 4, "compare_2": 2, "get_reward_2": 2}[kind]
    chosen = _pick(rng, pairs, n)
    prompts = [p for p, _ in chosen]
    if kind.startswith("score"):
        return Call(kind, "/score", _json({"prompts": prompts, "responses": [r for _, r in chosen]}), 200, n)
    if kind.startswith("compare"):
        other = _pick(rng, pairs, n)
        body = {"prompts": prompts, "responses_a": [r for _, r in chosen], "responses_b": [r for _, r in other]}
        return Call(kind, "/compare", _json(body), 200, n)
    body = {"query": [f"{p}\n{r}" for p, r in chosen], "prompts": prompts, "labels": ["x"] * n}
    return Call(kind, "/get_reward", _json(body), 200, n)


def _score(prompts: list, responses: list, **extra) -> bytes:
    return _json({"prompts": prompts, "responses": responses, **extra})


def invalid_call(kind: str) -> Call:
    """A body the server must refuse with a 4xx (and go on serving)."""
    one = (["What is two plus two?"], ["Four."])
    max_chars, max_items, max_body = LIMITS["max_chars"], LIMITS["max_items"], LIMITS["max_body_bytes"]
    table = {
        "wrong_type": ("/score", _score(["q", "r"], ["a", 3]), 422),
        "missing_field": ("/compare", _json({"prompts": ["q"], "responses_a": ["a"]}), 422),
        "unknown_field": ("/score", _score(*one, temperature=0.7), 422),
        "unknown_criterion": ("/score", _score(*one, criteria=["no_such_criterion"]), 422),
        "empty_prompt": ("/score", _score(["   "], ["a"]), 422),
        "length_mismatch": ("/compare", _json({"prompts": ["q"], "responses_a": ["a"], "responses_b": []}), 422),
        "too_long": ("/score", _score(["q"], ["x" * (max_chars + 1)]), 422),
        "too_many_items": ("/score", _score(["q"] * (max_items + 1), ["a"] * (max_items + 1)), 413),
        "too_large": ("/score", _score(["q"], ["x" * max_body]), 413),
        "lone_surrogate": ("/score", b'{"prompts": ["q"], "responses": ["\\ud800"]}', 422),
        "not_an_object": ("/get_reward", b'["What is two plus two? Four."]', 422),
        "query_without_prompt": ("/get_reward", _json({"query": ["unrelated"], "prompts": ["What is 2+2?"]}), 422),
        "broken_json": ("/score", b'{"prompts": ["q"], "responses": [', 400),
        "deep_nesting": ("/score", b"[" * 20000, 400),
        "empty_body": ("/score", b"", 400),
    }
    if kind == "text_plain":
        return Call(kind, "/score", _score(*one), 415, headers={"content-type": "text/plain"})
    if kind == "wrong_host":  # what a page on another name re-pointed at 127.0.0.1 (DNS rebinding) sends
        return Call(kind, "/score", _score(*one), 400, headers={**JSON_TYPE, "host": "rebound.example"})
    path, content, expected = table[kind]
    return Call(kind, path, content, expected)


VALID_KINDS = ["score_1", "score_1", "score_1", "score_4", "compare_2", "get_reward_2"]
INVALID_KINDS = ["wrong_type", "missing_field", "unknown_field", "unknown_criterion", "empty_prompt",
                 "length_mismatch", "too_long", "too_many_items", "too_large", "lone_surrogate", "not_an_object",
                 "query_without_prompt", "broken_json", "deep_nesting", "empty_body", "text_plain", "wrong_host"]


def plan(count: int, invalid_share: float, abandon_share: float, seed: int) -> list[Call]:
    """The requests of one phase, drawn with ``seed``: valid ones, invalid ones, and a few the client abandons."""
    rng, pairs = random.Random(seed), samples()
    calls = []
    for _ in range(count):
        draw = rng.random()
        if draw < abandon_share:
            call = valid_call("score_4", rng, pairs)
            calls.append(Call("abandoned", call.path, call.content, 0, call.items))
        elif draw < abandon_share + invalid_share:
            calls.append(invalid_call(rng.choice(INVALID_KINDS)))
        else:
            calls.append(valid_call(rng.choice(VALID_KINDS), rng, pairs))
    return calls


# ------------------------------------------------------------------------------------------------ the load
def result_items(path: str, reply: dict) -> set[int]:
    """Lengths of every per-item list in a 200 reply (one result per item means the set is {items})."""
    if path == "/score":
        return {len(v) for v in reply["scores"].values()}
    if path == "/compare":
        return {len(v) for c in reply["comparisons"].values() for v in c.values()}
    return {len(reply["rewards"]), len(reply["scores"]), *(len(v) for v in reply["extra_logs"].values())}


@dataclass
class Tally:
    """What one phase saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"valid": [], "invalid": []})
    statuses: Counter = field(default_factory=Counter)
    by_kind: dict[str, Counter] = field(default_factory=dict)
    unexpected: list[dict] = field(default_factory=list)
    wrong_shape: int = 0
    transport_errors: Counter = field(default_factory=Counter)
    not_sent: int = 0

    def record(self, call: Call, status: str, seconds: float | None) -> None:
        self.statuses[status] += 1
        self.by_kind.setdefault(call.kind, Counter())[status] += 1
        if seconds is not None and call.expected:
            self.latencies["valid" if call.expected == 200 else "invalid"].append(seconds)


async def send(http: httpx.AsyncClient, call: Call, tally: Tally) -> None:
    """Send one call and check its answer against what it must get."""
    started = time.perf_counter()
    timeout = httpx.Timeout(0.002) if call.expected == 0 else None
    try:
        extra = {"timeout": timeout} if timeout else {}
        reply = await http.post(call.path, content=call.content, headers=call.headers, **extra)
    except httpx.TimeoutException as err:
        if call.expected == 0:
            return tally.record(call, "abandoned", None)
        tally.transport_errors[type(err).__name__] += 1
        return tally.record(call, "timeout", None)
    except httpx.HTTPError as err:
        tally.transport_errors[type(err).__name__] += 1
        return tally.record(call, "transport error", None)
    tally.record(call, str(reply.status_code), time.perf_counter() - started)
    if call.expected and reply.status_code != call.expected:
        tally.unexpected.append({"kind": call.kind, "expected": call.expected, "got": reply.status_code,
                                 "body": reply.text[:300]})
    elif reply.status_code == 200 and result_items(call.path, reply.json()) != {call.items}:
        tally.wrong_shape += 1


class Milestones:
    """Server RSS at given counts of finished requests (read from /proc or psutil: cheap, so inline)."""

    def __init__(self, server: Server, at: dict[int, str]) -> None:
        self.server, self.at, self.done, self.rss = server, at, 0, {}

    def tick(self) -> None:
        self.done += 1
        if self.done in self.at:
            self.rss[self.at[self.done]] = self.server.rss_bytes()


async def run_phase(url: str, calls: list[Call], clients: int, max_seconds: float,
                    milestones: Milestones | None = None) -> tuple[Tally, float]:
    tally, queue = Tally(), iter(calls)
    deadline = time.monotonic() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        for call in queue:
            if time.monotonic() > deadline:
                tally.not_sent += 1
                continue
            await send(http, call, tally)
            if milestones:
                milestones.tick()

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return tally, time.perf_counter() - started


# ------------------------------------------------------------------------------------------------ the report
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile in milliseconds (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)


def latency_summary(values: list[float]) -> dict:
    return {"count": len(values), "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
            "max_ms": percentile(values, 1.0)}


def failures_of(summary: dict, max_growth_mib: float) -> list[str]:
    """Why the soak failed (empty: it passed)."""
    checks = [
        (summary["server_5xx"], f"{summary['server_5xx']} responses with a 5xx status"),
        (sum(summary["transport_errors"].values()), f"transport errors: {summary['transport_errors']}"),
        (len(summary["unexpected"]), f"{len(summary['unexpected'])} requests got another status than expected"),
        (summary["wrong_shape"], f"{summary['wrong_shape']} 200 replies without one result per item"),
        (summary["not_sent"], f"{summary['not_sent']} requests not sent within --max-seconds"),
        (summary["server_log"]["tracebacks"], f"{summary['server_log']['tracebacks']} tracebacks in the server log"),
        (summary["rss_mib"]["growth_after_warmup"] > max_growth_mib,
         f"RSS grew {summary['rss_mib']['growth_after_warmup']:.1f} MiB after warm-up (limit {max_growth_mib})"),
    ]
    return [message for failed, message in checks if failed]


def summarize(args: argparse.Namespace, label: str, tally: Tally, seconds: float, rss: dict[str, int],
              log_text: str, load: tuple[float, float]) -> dict:
    mib = {name: round(value / MIB, 1) for name, value in rss.items()}
    mib["growth_after_warmup"] = round((rss["end"] - rss["warm"]) / MIB, 1)
    mib["growth_second_half"] = round((rss["end"] - rss["middle"]) / MIB, 1)
    answered = sum(n for status, n in tally.statuses.items() if status.isdigit())
    every = tally.latencies["valid"] + tally.latencies["invalid"]
    summary = {
        "model": label, "clients": args.clients, "requests": args.requests, "warmup": args.warmup,
        "invalid_share": args.invalid_share, "abandon_share": args.abandon_share, "seed": args.seed,
        "server_threads": args.server_threads, "limits": LIMITS, "cpus": os.cpu_count(),
        "load_average_1min": {"start": round(load[0], 2), "end": round(load[1], 2)},
        "seconds": round(seconds, 2), "throughput_rps": round(answered / seconds, 1),
        "latency": {"all": latency_summary(every), "valid": latency_summary(tally.latencies["valid"]),
                    "invalid": latency_summary(tally.latencies["invalid"])},
        "status_counts": dict(sorted(tally.statuses.items())),
        "by_kind": {kind: dict(sorted(c.items())) for kind, c in sorted(tally.by_kind.items())},
        "server_5xx": sum(n for status, n in tally.statuses.items() if status.startswith("5")),
        "unexpected": tally.unexpected[:20], "wrong_shape": tally.wrong_shape,
        "transport_errors": dict(tally.transport_errors), "not_sent": tally.not_sent,
        "rss_mib": mib,
        "server_log": {"lines": len(log_text.splitlines()), "tracebacks": log_text.count("Traceback"),
                       "tail": log_text[-1500:]},
        "max_growth_mib": args.max_growth_mib,
    }
    summary["failures"] = failures_of(summary, args.max_growth_mib)
    summary["passed"] = not summary["failures"]
    return summary


def print_summary(s: dict) -> None:
    lat, rss = s["latency"], s["rss_mib"]
    print(f"model: {s['model']}; {s['clients']} clients x {s['requests']} requests ({s['warmup']} warm-up before), "
          f"{s['invalid_share']:.0%} invalid, {s['abandon_share']:.0%} abandoned, loopback; {s['cpus']} CPUs, "
          f"1-min load average {s['load_average_1min']['start']} at start, {s['load_average_1min']['end']} at end")
    print(f"throughput {s['throughput_rps']} req/s over {s['seconds']} s")
    for name in ("all", "valid", "invalid"):
        print(f"latency {name:<8} n={lat[name]['count']:<6} p50 {lat[name]['p50_ms']} ms   "
              f"p99 {lat[name]['p99_ms']} ms   max {lat[name]['max_ms']} ms")
    print("status counts: " + ", ".join(f"{k}: {v}" for k, v in s["status_counts"].items()))
    print(f"5xx: {s['server_5xx']}; unexpected statuses: {len(s['unexpected'])}; wrong result shape: "
          f"{s['wrong_shape']}; transport errors: {sum(s['transport_errors'].values())}; "
          f"tracebacks in server log: {s['server_log']['tracebacks']}")
    print(f"server RSS MiB: start {rss['start']}, after warm-up {rss['warm']}, middle {rss['middle']}, "
          f"end {rss['end']}; growth after warm-up {rss['growth_after_warmup']} (second half "
          f"{rss['growth_second_half']}; limit {s['max_growth_mib']})")
    print("PASS" if s["passed"] else "FAIL: " + "; ".join(s["failures"]))


# ------------------------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--artifact", help="serve this artifact (default: a tiny random model fitted here)")
    source.add_argument("--embedded", action="store_true",
                        help="serve the embedded SmolLM2-135M-Instruct (8 random heads steered, no fit)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests (default 2000)")
    parser.add_argument("--warmup", type=int, default=None, help="requests before the RSS baseline (default: "
                                                                   "10%% of --requests, at least 20)")
    parser.add_argument("--invalid-share", type=float, default=0.3, help="share of invalid bodies (default 0.3)")
    parser.add_argument("--abandon-share", type=float, default=0.02,
                        help="share of requests whose client hangs up after 2 ms (default 0.02)")
    parser.add_argument("--max-growth-mib", type=float, default=32.0,
                        help="fail if server RSS grows more than this after the warm-up (default 32)")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop sending after this long")
    parser.add_argument("--server-threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--device", default="cpu", help="server device (default cpu)")
    parser.add_argument("--dtype", default="float32", help="server dtype (default float32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="extra option for 'activation-rm serve' (repeatable; e.g. --serve-arg=--no-batching)")
    parser.add_argument("--out", help="write the JSON report here")
    args = parser.parse_args(argv)
    args.warmup = args.warmup if args.warmup is not None else max(20, args.requests // 10)
    if not 0 <= args.invalid_share + args.abandon_share <= 1:
        parser.error("--invalid-share + --abandon-share must lie in [0, 1]")
    return args


def soak(args: argparse.Namespace, artifact: str, label: str, workdir: Path) -> dict:
    load_start = os.getloadavg()[0]
    server = Server(artifact, workdir / "server.log", args.server_threads, args.device, args.dtype,
                    tuple(args.serve_arg))
    try:
        server.wait_ready(timeout=300)
        rss = {"start": server.rss_bytes()}
        warm = plan(args.warmup, args.invalid_share, args.abandon_share, args.seed + 1)
        asyncio.run(run_phase(server.url, warm, args.clients, args.max_seconds))
        rss["warm"] = server.rss_bytes()
        milestones = Milestones(server, {max(1, args.requests // 2): "middle"})
        calls = plan(args.requests, args.invalid_share, args.abandon_share, args.seed)
        tally, seconds = asyncio.run(run_phase(server.url, calls, args.clients, args.max_seconds, milestones))
        time.sleep(0.5)  # abandoned requests may still be scoring; let them finish before the last reading
        rss.update(milestones.rss, end=server.rss_bytes())
        rss.setdefault("middle", rss["end"])
        healthy = httpx.get(server.url + "/health", timeout=10).status_code == 200
    finally:
        server.stop()
    log_text = server.log_path.read_text(encoding="utf-8", errors="replace")
    summary = summarize(args, label, tally, seconds, rss, log_text, (load_start, os.getloadavg()[0]))
    if not healthy:
        summary["failures"].append("/health failed after the soak")
        summary["passed"] = False
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory(prefix="arm-soak-") as workdir:
        if args.artifact:
            artifact, label = args.artifact, args.artifact
        elif args.embedded:
            artifact = embedded_artifact(Path(workdir))
            label = f"embedded SmolLM2-135M-Instruct ({args.device}, {args.dtype}, 8 heads)"
        else:
            artifact, label = tiny_artifact(Path(workdir)), "tiny random Llama (3 layers, 64 wide; CPU)"
        summary = soak(args, artifact, label, Path(workdir))
    print_summary(summary)
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
