"""The VS Code extension in packaging/editors/vscode builds from its lock file and is consistent.

Runs by default where `npm` is installed: `npm ci` + `npm run compile` in a temporary copy
take under 10 s here (12 packages, cached by npm after the first run). Skipped, with the
reason, when npm is missing or the npm registry cannot be reached (CI needs no extras).
Packaging the .vsix fetches @vscode/vsce (about 200 more packages, ~25 s) through npx, so
that test runs only with SCIMULT_TEST_NPM=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[1] / "packaging" / "editors" / "vscode"
SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "README.md", ".vscodeignore", "src")
NPM_TIMEOUT_S = 180

# Loads the compiled extension with a stand-in `vscode` module (only VS Code provides the real
# one) and prints what the extension exports and the server command it builds from settings.
PROBE_JS = r"""
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? new Proxy({}, { get: () => class {} }) : load.call(this, request, ...rest);
};
const ext = require(process.argv[process.argv.length - 1]);
const settings = (values) => ({ get: (key, fallback) => (key in values ? values[key] : fallback) });
console.log(JSON.stringify({
  exports: Object.keys(ext),
  languages: ext.LANGUAGES,
  defaults: ext.serverCommand(settings({})),
  configured: ext.serverCommand(settings({ command: ' /opt/bin/scimult ', library: '/data/papers' })),
}));
"""


# Starts the server with the command the compiled extension builds from its settings and asks
# for a completion through vscode-jsonrpc, the JSON-RPC layer of VS Code's language client.
SERVER_PROBE_JS = r"""
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? new Proxy({}, { get: () => class {} }) : load.call(this, request, ...rest);
};
const [entry, scimult, library, draft] = process.argv.slice(-4);
const ext = require(entry);
const rpc = require(path.join(path.dirname(entry), '..', 'node_modules', 'vscode-jsonrpc', 'node'));
const settings = { get: (key, fallback) => ({ command: scimult, library })[key] ?? fallback };
const { command, args } = ext.serverCommand(settings);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
let done = false;
child.on('exit', (code) => { if (!done) { console.error(`server exited early (${code})`); process.exit(1); } });
const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
const messages = [];
connection.onNotification('window/showMessage', (params) => messages.push(params.message));
connection.listen();
(async () => {
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  connection.sendNotification('initialized', {});
  const text = fs.readFileSync(draft, 'utf8');
  const uri = 'file://' + draft;
  connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'latex', version: 1, text } });
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.endsWith('\\cite{'));
  const result = await connection.sendRequest('textDocument/completion',
    { textDocument: { uri }, position: { line, character: lines[line].length } });
  const items = (result && (result.items || result)) || [];
  items.sort((a, b) => (a.sortText || a.label).localeCompare(b.sortText || b.label));
  await connection.sendRequest('shutdown');
  done = true;
  connection.sendNotification('exit');
  console.log(JSON.stringify({ command: [command, ...args], labels: items.map((item) => item.label), messages }));
  setTimeout(() => process.exit(0), 200);
})().catch((error) => { console.error(String(error)); process.exit(1); });
"""


def _npm(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm {' '.join(args)} did not finish within {NPM_TIMEOUT_S} s (slow npm registry?)")


def _registry_reachable(cwd: Path) -> bool:
    try:
        return subprocess.run(["npm", "ping"], cwd=cwd, capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A copy of the extension's sources with `npm ci` and `npm run compile` done."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm/node not installed: the VS Code extension is not built")
    # Same layout as the checkout: `npm run package` copies ../../../LICENSE.
    root = tmp_path_factory.mktemp("checkout")
    shutil.copy2(EXTENSION.parents[2] / "LICENSE", root / "LICENSE")
    folder = root / "packaging" / "editors" / "vscode"
    folder.mkdir(parents=True)
    for name in SOURCES:
        source = EXTENSION / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy2(source, folder / name)
    installed = _npm(["ci", "--prefer-offline", "--no-audit", "--no-fund"], folder)
    if installed.returncode != 0:
        if not _registry_reachable(folder):
            pytest.skip("the npm registry is unreachable and npm's cache lacks the packages: extension not built")
        pytest.fail(f"npm ci failed:\n{installed.stderr[-3000:]}")
    compiled = _npm(["run", "compile"], folder)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]
    return folder


def _version(text: str) -> tuple[int, ...]:
    """(1, 82, 0) from '^1.82.0', '~1.82.0' or '1.82.0'."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    assert match, text
    return tuple(int(part) for part in match.groups())


def test_compiled_entry_exists_and_builds_the_server_command(built):
    manifest = json.loads((built / "package.json").read_text())
    entry = (built / manifest["main"]).resolve()
    assert entry.is_file(), f"{manifest['main']} not produced by npm run compile"
    probe = subprocess.run(["node", "-e", PROBE_JS, str(entry)], cwd=built, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    loaded = json.loads(probe.stdout)
    assert {"activate", "deactivate"} <= set(loaded["exports"])
    assert loaded["defaults"] == {"command": "scimult", "args": ["lsp"]}
    assert loaded["configured"] == {"command": "/opt/bin/scimult", "args": ["--library", "/data/papers", "lsp"]}
    # The document selector and the activation events name the same languages.
    activation = {event.split(":", 1)[1] for event in manifest["activationEvents"] if event.startswith("onLanguage:")}
    assert activation == set(loaded["languages"])
    assert {"latex", "markdown", "quarto", "plaintext"} <= activation


def test_manifest_settings_commands_and_versions_agree(built):
    manifest = json.loads((built / "package.json").read_text())
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["scimult.command"]["default"] == "scimult"
    assert settings["scimult.library"]["default"] == ""
    source = (built / manifest["main"]).read_text()
    for command in manifest["contributes"]["commands"]:
        assert f"registerCommand('{command['command']}'" in source, command
    # VS Code must be at least what the language client needs; @types/vscode may not be newer
    # than the declared engine (vsce refuses to package otherwise).
    engine = _version(manifest["engines"]["vscode"])
    client = json.loads((built / "node_modules" / "vscode-languageclient" / "package.json").read_text())
    types = json.loads((built / "node_modules" / "@types" / "vscode" / "package.json").read_text())
    assert engine >= _version(client["engines"]["vscode"])
    assert _version(types["version"])[:2] <= engine[:2]
    lock = json.loads((built / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]


def test_the_command_it_builds_starts_the_server_and_completes(built, tmp_path):
    pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")
    scimult = Path(sys.executable).with_name("scimult")
    if not scimult.exists():
        pytest.skip(f"no scimult script beside {sys.executable} (package not installed)")
    from scimult_desktop.services.library.facade import Library
    from tests.bibgen import bib_entry

    bib = tmp_path / "refs.bib"
    bib.write_text(bib_entry("vitd", "Vitamin D supplementation and hip fracture risk")
                   + bib_entry("galaxy", "Galaxy rotation curves and dark matter"), encoding="utf-8")
    with Library.open(tmp_path / "library") as library:
        library.import_paths([bib])
    draft = tmp_path / "draft.tex"
    draft.write_text("Vitamin D supplementation lowers hip fracture risk \\cite{\n", encoding="utf-8")
    entry = built / json.loads((built / "package.json").read_text())["main"]
    probe = subprocess.run(["node", "-e", SERVER_PROBE_JS, str(entry.resolve()), str(scimult), str(tmp_path / "library"), str(draft)],
                           cwd=built, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-3000:]
    answer = json.loads(probe.stdout)
    assert answer["command"] == [str(scimult), "--library", str(tmp_path / "library"), "lsp"]
    # No model is installed in tests: the server ranks by words, so only 'vitd' fits the sentence.
    assert answer["labels"][:1] == ["vitd"], answer


@pytest.mark.skipif(os.environ.get("SCIMULT_TEST_NPM") != "1", reason="packaging the .vsix fetches @vscode/vsce: set SCIMULT_TEST_NPM=1")
def test_vsix_packages_the_compiled_extension(built):
    packaged = _npm(["run", "package"], built)
    assert packaged.returncode == 0, packaged.stdout[-3000:] + packaged.stderr[-3000:]
    manifest = json.loads((built / "package.json").read_text())
    vsix = built / f"{manifest['name']}-{manifest['version']}.vsix"
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
    assert f"extension/{manifest['main'].removeprefix('./')}" in names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not any(name.startswith("extension/src/") for name in names)
