"""``activation-rm serve`` and ``activation-rm score --ray``: argument definitions (argparse only, so building the
parser imports no server package) and the commands, which import FastAPI, uvicorn or Ray when they run."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

EXTRA_HINT = "install it with: pip install 'activation-rm[{extra}]'"
#: seconds an idle keep-alive connection stays open (uvicorn's default, stated here so the docs can rely on it)
KEEP_ALIVE_S = 5
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def port_number(text: str) -> int:
    """An argparse type: a TCP port from 1 to 65535 (port 0 would bind a random port the banner cannot name)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def _seconds(text: str, zero_ok: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value > 0 or (zero_ok and value == 0)) or value == float("inf"):
        least = "0 or more" if zero_ok else "more than 0"
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds ({least})")
    return value


def _timeout(text: str) -> float:
    return _seconds(text, zero_ok=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", metavar="ARTIFACT",
                        help="artifact directories to serve, as PATH or NAME=PATH (NAME is the criterion's name in "
                             "requests; default: the directory name). All must share one backbone; pairwise "
                             "artifacts are served on /compare only.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=port_number, default=5000, metavar="PORT", help="TCP port, 1-65535 (default: 5000)")
    parser.add_argument("--token", default=None,
                        help="require 'Authorization: Bearer TOKEN' on every path but /health, checked before the "
                             "body is read (default: $ACTIVATION_RM_TOKEN; unset: no auth)")
    parser.add_argument("--allow-host", action="append", default=None, metavar="NAME",
                        help="also answer requests whose Host header is NAME (repeatable; '*': any). By default "
                             "only loopback names (localhost, 127.0.0.1, ::1) and the --host address are accepted, "
                             "against DNS rebinding")
    parser.add_argument("--request-timeout", type=_timeout, default=300.0, metavar="SECONDS",
                        help="answer 504 to a request not scored within SECONDS, queueing included, and drop its "
                             "remaining work; 0: no limit (default: 300)")
    parser.add_argument("--read-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                        help="answer 408 and close the connection when a request body has not fully arrived "
                             "SECONDS after the request began (default: 30)")
    parser.add_argument("--limit-concurrency", type=_positive_int, default=1024, metavar="N",
                        help="most open connections and requests at once; beyond it new requests get 503 "
                             "(default: 1024)")
    parser.add_argument("--micro-batch-tokens", type=_positive_int, default=None, metavar="N",
                        help="most (estimated) tokens in one model call: larger requests are split and take turns "
                             "with the others; an item larger than N runs alone (default: 2048 on a CPU, 8192 on "
                             "a GPU)")
    parser.add_argument("--max-batch-size", type=int, default=64, metavar="N", help="items per dynamic batch (default: 64)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0,
                        metavar="MS",
                        help="milliseconds an open batch waits for more requests (default: 5)")
    parser.add_argument("--no-batching", action="store_true", help="score every request on its own (default: off, dynamic batching)")
    parser.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024, metavar="BYTES",
                        help="request body limit in bytes (default: 8388608, 8 MiB)")
    parser.add_argument("--max-items", type=int, default=512, metavar="N", help="items per request (default: 512)")
    parser.add_argument("--max-chars", type=int, default=65536, metavar="N",
                        help="characters per prompt or response (default: 65536)")
    parser.add_argument("--reward-criteria", nargs="+", default=None,
                        metavar="NAME",
                        help="criteria averaged into /get_reward's reward (default: all served)")
    parser.add_argument("--strip-token", action="append", default=None,
                        metavar="TEXT",
                        help="extra special-token string to strip when splitting /get_reward queries (repeatable; "
                             "default: the tokenizer's own special tokens only)")
    parser.add_argument("--image-root", default=None, metavar="DIR",
                        help="allow requests to name local image files, only under DIR (default: no local paths; "
                             "data:image/...;base64 URIs are always accepted)")
    parser.add_argument("--allow-network", action="store_true",
                        help="allow http(s) image URLs in requests, which the server fetches (default: off)")
    parser.add_argument("--max-images", type=int, default=16, metavar="N", help="images per item (default: 16)")
    parser.add_argument("--no-fuse", action="store_true",
                        help="score several criteria one pass each instead of in one fused pass (default: off, fused)")
    parser.add_argument("--threads", type=int, default=None,
                        metavar="N",
                        help="torch CPU threads; 1 helps on a crowded CPU (default: torch's choice)")
    parser.add_argument("--log-level", default="info", metavar="LEVEL", help="uvicorn log level (default: info)")
    ray = parser.add_argument_group("Ray Serve")
    ray.add_argument("--ray", action="store_true", help="serve with Ray Serve replicas instead of one uvicorn process (default: off)")
    ray.add_argument("--replicas", type=int, default=1, metavar="N",
                     help="Ray Serve replicas, each loading the backbone once (default: 1)")
    ray.add_argument("--replica-cpus", type=float, default=1.0, metavar="NUM", help="CPUs reserved per replica (default: 1.0)")
    ray.add_argument("--replica-gpus", type=float, default=0.0, metavar="NUM",
                     help="GPUs per replica, 1 on a GPU cluster (default: 0.0)")
    ray.add_argument("--ray-address", default=None, metavar="ADDRESS",
                     help="Ray cluster address (default: $RAY_ADDRESS or a local one)")


def add_ray_score_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Ray Data (score only)")
    group.add_argument("--ray", action="store_true",
                       help="score a large JSONL or Parquet file with Ray Data; --output is then a directory of "
                            "JSONL (or Parquet, if it ends in .parquet) shards (default: off)")
    group.add_argument("--workers", type=int, default=2, metavar="N", help="Ray Data scoring actors (default: 2)")
    group.add_argument("--worker-cpus", type=float, default=1.0, metavar="NUM", help="CPUs per actor (default: 1.0)")
    group.add_argument("--worker-gpus", type=float, default=0.0, metavar="NUM", help="GPUs per actor (default: 0.0)")
    group.add_argument("--ray-address", default=None, metavar="ADDRESS",
                       help="Ray cluster address (default: $RAY_ADDRESS or a local one)")


def backbone_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """How to load the backbone: ``model`` (None: the artifacts' own) and the loading options."""
    return {"model": args.model, "device": args.device, "dtype": args.dtype,
            "trust_remote_code": args.trust_remote_code}


def server_config(args: argparse.Namespace):
    """The server's settings from the command line; a ValueError names a bad one."""
    from activation_rm.serve.batcher import BatchConfig
    from activation_rm.serve.config import ServerConfig, is_loopback_host, token_from_env
    from activation_rm.serve.images import ImagePolicy

    hosts = list(args.allow_host or ())
    if args.host not in WILDCARD_HOSTS and not is_loopback_host(args.host):
        hosts.append(args.host)  # an address or name the server was told to bind: clients may use it
    return ServerConfig(token=token_from_env(args.token), max_body_bytes=args.max_body_bytes,
                        max_items=args.max_items, max_chars=args.max_chars,
                        batching=BatchConfig(args.max_batch_size, args.max_wait_ms, enabled=not args.no_batching,
                                             micro_batch_tokens=args.micro_batch_tokens),
                        reward_criteria=tuple(args.reward_criteria or ()), strip_tokens=tuple(args.strip_token or ()),
                        images=ImagePolicy(root=args.image_root, allow_network=args.allow_network,
                                           max_per_item=args.max_images),
                        allow_hosts=tuple(hosts), request_timeout_s=args.request_timeout or None,
                        read_timeout_s=args.read_timeout)


def auth_warning(host: str, token: str | None) -> str | None:
    """The one start-up warning about a server without a token (None with a token)."""
    from activation_rm.serve.config import is_loopback_host

    if token is not None:
        return None
    if is_loopback_host(host):
        return ("warning: no token: every program and user on this machine can use the server; set --token or "
                "$ACTIVATION_RM_TOKEN")
    return (f"warning: serving on {host} without a token: anyone who can reach this machine can use the server; "
            "set --token or $ACTIVATION_RM_TOKEN")


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, opened before the model loads so a port in use is an error at once
    (and the port stays ours while the model loads); an OSError says why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: no wait after a restart
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _bind_error(host: str, port: int, err: OSError) -> str:
    import errno

    if err.errno == errno.EADDRINUSE:
        return f"error: cannot listen on {host}:{port}: the port is already in use (choose another with --port)"
    return f"error: cannot listen on {host}:{port}: {err.strerror or err}"


def uvicorn_config(app: Any, args: argparse.Namespace):
    """uvicorn's settings: the connection cap and keep-alive timeout against connections that hold on."""
    import uvicorn

    return uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                          limit_concurrency=args.limit_concurrency, timeout_keep_alive=KEEP_ALIVE_S)


def load_models(args: argparse.Namespace):
    from activation_rm.scoring.engine import load_model_set

    models = load_model_set(args.artifacts, **backbone_kwargs(args))
    models.fuse_criteria = not args.no_fuse
    return models


def build_server(args: argparse.Namespace):
    """The FastAPI app the ``serve`` command runs (tests call this without starting uvicorn)."""
    try:
        from activation_rm.serve.app import create_app
    except ImportError as err:
        raise SystemExit(f"error: the server needs FastAPI ({err}); {EXTRA_HINT.format(extra='server')}") from None
    config = server_config(args)  # bad settings (e.g. a missing --image-root) fail before the backbone loads
    return create_app(load_models(args), config)


def run_serve(args: argparse.Namespace) -> int:
    """Check the settings and the port, then load the models and serve; user errors exit with status 2 before any
    model loads."""
    try:
        config = server_config(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        sock = listen_socket(args.host, args.port)
    except OSError as err:
        print(_bind_error(args.host, args.port, err), file=sys.stderr)
        return 2
    warning = auth_warning(args.host, config.token)
    if warning:
        print(warning, file=sys.stderr)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.ray:
        sock.close()  # Ray Serve's proxy binds the port itself
        try:
            from activation_rm.serve.ray_app import serve_on_ray
        except ImportError as err:
            raise SystemExit(f"error: --ray needs Ray Serve ({err}); {EXTRA_HINT.format(extra='ray')}") from None
        serve_on_ray(args.artifacts, config, backbone_kwargs(args), host=args.host, port=args.port,
                     replicas=args.replicas, num_cpus=args.replica_cpus, num_gpus=args.replica_gpus,
                     address=args.ray_address, fuse_criteria=not args.no_fuse)
        return 0
    with sock:
        try:
            import uvicorn
        except ImportError:
            raise SystemExit(f"error: the server needs uvicorn; {EXTRA_HINT.format(extra='server')}") from None
        try:
            app = build_server(args)
        except ValueError as err:  # bad artifacts: duplicate names, another backbone, a pairwise reward criterion
            print(f"error: {err}", file=sys.stderr)
            return 2
        models = app.state.models
        hosts = ", ".join(config.public()["hosts"]) if "*" not in config.allow_hosts else "any"
        print(f"serving {', '.join(models.names)} on http://{args.host}:{args.port} (backbone "
              f"{models.backbone.name}; Host names answered: {hosts})", file=sys.stderr)
        uvicorn.Server(uvicorn_config(app, args)).run(sockets=[sock])
    return 0


def run_score_ray(args: argparse.Namespace) -> int:
    if args.without_steering:
        raise SystemExit("error: --without-steering is not supported with --ray")
    try:
        from activation_rm.integrations.ray_batch import score_with_ray
    except ImportError as err:
        raise SystemExit(f"error: --ray needs Ray Data ({err}); {EXTRA_HINT.format(extra='ray')}") from None
    written = score_with_ray(args.input, args.output, [args.artifact], backbone_kwargs=backbone_kwargs(args),
                             workers=args.workers, batch_size=args.chunk_size, num_cpus=args.worker_cpus,
                             num_gpus=args.worker_gpus, address=args.ray_address)
    print(f"scored {written} row(s) with Ray Data into {args.output}/", file=sys.stderr)
    return 0
