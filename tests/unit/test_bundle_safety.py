"""Hostile model bundles: links out of the bundle, special files, manifest fields of the wrong
type, paths that leave the bundle and corrupted weights are refused with one clear error
naming the file; nothing from outside the bundle is copied and nothing is installed.

benchmarks/probe_bundles.py runs the same kinds of bundle through `scimult model install`.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from scimult_desktop import config
from scimult_desktop.embedding import bundle as bundle_format
from scimult_desktop.embedding.bundle import BundleManifest, read_manifest
from scimult_desktop.errors import ModelError
from scimult_desktop.services.models import bundles

SECRET = "the user's private key"
TASKS = ("search", "link", "classify")


def fake_bundle(folder, **changes):
    """A manifest and placeholder files: enough for every check that runs before a graph loads."""
    folder.mkdir(parents=True)
    manifest = {
        "format": "scimult-model-bundle", "format_version": 1, "name": "fake", "architecture": "bert-vanilla",
        "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
        "tasks": {task: {"expert": None, "graph": "g.onnx"} for task in TASKS},
    }  # fmt: skip
    manifest.update(changes)
    (folder / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "g.onnx").write_bytes(b"placeholder")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


def installed_files() -> list[str]:
    root = config.models_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "outside" / "id_rsa"
    path.parent.mkdir()
    path.write_text(SECRET)
    return path


# ---- links and special files ------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
@pytest.mark.parametrize("member", ["notes.txt", "tokenizer.json", "sub/deeper.bin"])
def test_a_symlink_inside_a_bundle_is_refused_and_nothing_is_copied(tmp_path, secret, member):
    bundle = fake_bundle(tmp_path / "bundle")
    link = bundle / member
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    os.symlink(secret, link)
    with pytest.raises(ModelError, match=f"{link.name}: model bundles may not contain symbolic links"):
        bundles.install(bundle)
    assert not any(SECRET in p.read_text(errors="replace") for p in config.models_dir().rglob("*") if p.is_file())
    assert installed_files() == []


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_a_symlink_to_a_folder_outside_is_refused(tmp_path, secret):
    bundle = fake_bundle(tmp_path / "bundle")
    os.symlink(secret.parent, bundle / "extra")
    with pytest.raises(ModelError, match="extra: model bundles may not contain symbolic links"):
        bundles.install(bundle)
    assert installed_files() == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_instead_of_hanging_or_crashing_the_copy(tmp_path):
    bundle = fake_bundle(tmp_path / "bundle")
    os.mkfifo(bundle / "pipe")
    with pytest.raises(ModelError, match="pipe: not a regular file"):
        bundles.install(bundle)


# ---- manifest fields ------------------------------------------------------------
BAD_FIELDS = [
    ({"dim": "abc"}, "dim must be a positive whole number"),
    ({"dim": 64.5}, "dim must be a positive whole number"),
    ({"dim": -8}, "dim must be a positive whole number"),
    ({"dim": True}, "dim must be a positive whole number"),
    ({"max_length": "128"}, "max_length must be a positive whole number"),
    ({"name": 5}, "name must be a non-empty string"),
    ({"architecture": None}, "architecture must be a non-empty string"),
    ({"pooling": ["mean"]}, "pooling must be 'cls' or 'mean'"),
    ({"similarity": "l2"}, "similarity must be 'dot' or 'cosine'"),
    ({"format_version": "one"}, "format_version must be a whole number"),
    ({"tasks": ["search"]}, "tasks must be an object"),
    ({"tasks": {}}, "tasks must be an object"),
    ({"tasks": {"search": "g.onnx"}}, "tasks.search must be an object"),
    ({"tasks": {"summarize": {"expert": 0, "graph": "g.onnx"}}}, "unknown task 'summarize'"),
    ({"tasks": {"search": {"expert": "zero", "graph": "g.onnx"}}}, "tasks.search.expert must be a whole number or null"),
    ({"tasks": {"search": {"expert": 0, "graph": "g.onnx", "variants": ["x.onnx"]}}}, "tasks.search.variants must be an object"),
    ({"tasks": {"search": {"expert": 0, "graph": "g.onnx", "instruction": 3}}}, "tasks.search.instruction must be a string"),
    ({"tasks": {"search": {"expert": 0, "graph": "/etc/passwd"}}}, "tasks.search.graph must be a file name inside the bundle"),
    ({"tasks": {"search": {"expert": 0, "graph": "../../g.onnx"}}}, "tasks.search.graph must be a file name inside the bundle"),
    ({"tasks": {"search": {"expert": 0, "graph": "g.onnx", "variants": {"int8": "../x.onnx"}}}}, "tasks.search.variants.int8 must be a file name"),
    ({"tokenizer": "/etc/hostname"}, "tokenizer must be a file name inside the bundle"),
    ({"tokenizer": None}, "tokenizer must be a file name inside the bundle"),
    ({"source": "somewhere"}, "source must be an object"),
    ({"export": []}, "export must be an object"),
    ({"surprise": 1}, "unknown manifest field 'surprise'"),
]


@pytest.mark.parametrize("changes, message", BAD_FIELDS, ids=[m for _, m in BAD_FIELDS])
def test_a_manifest_field_of_the_wrong_type_is_one_clear_error(changes, message):
    data = {
        "format": "scimult-model-bundle", "format_version": 1, "name": "fake", "architecture": "bert-vanilla",
        "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
        "tasks": {task: {"expert": None, "graph": "g.onnx"} for task in TASKS},
    }  # fmt: skip
    data.update(changes)
    with pytest.raises(ModelError, match=f"^bundle.json: {message}"):
        BundleManifest.from_json(data)


@pytest.mark.parametrize("content", [b"[1, 2, 3]", b'"a string"', b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000])
def test_an_unreadable_or_odd_manifest_is_one_clear_error(tmp_path, content):
    bundle = fake_bundle(tmp_path / "bundle")
    (bundle / "bundle.json").write_bytes(content)
    with pytest.raises(ModelError, match="bundle.json: (unreadable manifest|not a SciMult model bundle manifest)"):
        read_manifest(bundle)


def test_installing_a_bundle_with_a_non_numeric_dim_fails_cleanly_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli

    bundle = fake_bundle(tmp_path / "bundle", dim="abc")
    result = CliRunner().invoke(cli, ["model", "install", str(bundle)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [f"error: {bundle / 'bundle.json'}: dim must be a positive whole number, not 'abc'"]


# ---- checksums --------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    return testing.build_tiny_bundle(tmp_path_factory.mktemp("safety") / "bundle", name="tiny-safety")


def test_the_exporter_records_a_checksum_of_every_file(tiny_bundle):
    checksums = read_manifest(tiny_bundle).export["checksums"]
    assert checksums == bundle_format.file_checksums(tiny_bundle)
    assert {"tokenizer.json", "torch/model.safetensors"} <= set(checksums) and any(n.endswith(".onnx") for n in checksums)
    assert "bundle.json" not in checksums and "MODEL_CARD.md" not in checksums


@pytest.mark.parametrize("victim", ["graph", "tokenizer.json", "torch/model.safetensors"])
def test_a_corrupted_file_is_refused_naming_it(tiny_bundle, tmp_path, victim):
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    name = read_manifest(bundle).tasks["search"].graph if victim == "graph" else victim
    data = bytearray((bundle / name).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0x55 for b in data[middle : middle + 16])  # still loads: only the numbers change
    (bundle / name).write_bytes(bytes(data))
    with pytest.raises(ModelError, match=f"{bundle / name}: file is corrupted"):
        bundles.install(bundle)
    assert installed_files() == []


def test_a_file_listed_in_the_checksums_but_missing_is_refused(tiny_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    (bundle / "torch" / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="model.safetensors: listed in the manifest's checksums but missing"):
        bundles.install(bundle)


def test_a_bundle_from_before_checksums_installs_and_gets_them_recorded(tiny_bundle, tmp_path):
    bundle = tmp_path / "old-bundle"
    shutil.copytree(tiny_bundle, bundle)
    data = json.loads((bundle / "bundle.json").read_text())
    del data["export"]["checksums"]
    for info in data["export"]["graphs"].values():
        del info["sha256"]
    (bundle / "bundle.json").write_text(json.dumps(data))
    info = bundles.install(bundle, name="old")
    installed = read_manifest(info.path)
    assert installed.export["checksums"] == bundle_format.file_checksums(info.path) == bundle_format.file_checksums(bundle)
