"""A real editor client: headless Neovim starts `scimult lsp` over stdio and uses every feature.

Neovim's own LSP client, through calls that exist from 0.6 on (`vim.lsp.start_client`
+ `vim.lsp.buf_attach_client`; Debian 12 ships 0.7.2, which has no `vim.lsp.start`), opens
a .tex draft and asks for completion where a sentence ends in `\\cite{`, hovers a cited key,
asks for code actions on an uncited claim and collects the diagnostics the server
publishes; then completion after Pandoc's `[@` in a Markdown draft. A Lua script writes
what came back to a JSON file; the assertions are here. The library is five papers
indexed with a tiny real (random-weight) model bundle. Skipped, with the reason, when
`nvim` is not installed (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bibgen import bib_entry

NVIM_TIMEOUT_S = 180
REQUEST_TIMEOUT_MS = 60_000  # the first request loads the model; CI machines are slow and shared

# Only 'vitd' shares a word with SENTENCE (the others avoid even "the", "of" and "in"), so
# BM25 finds it alone and reciprocal-rank fusion with the tiny random model's ranking puts
# it first whatever that ranking is.
PAPERS = [
    ("vitd", "Vitamin D supplementation and hip fracture risk in older adults",
     "A randomised trial: vitamin D supplementation lowers hip fracture risk in older adults."),
    ("dense", "Dense passage retrieval for open domain question answering",
     "Dual encoders retrieve passages for questions."),
    ("galaxy", "Galaxy rotation curves and dark matter", "Spiral galaxies rotate as if dark matter halos surround them."),
    ("malaria", "Malaria transmission and bed nets", "Insecticide-treated bed nets reduce malaria transmission among children."),
    ("climate", "Climate model ensembles and regional warming", "An ensemble with many climate models projects regional warming."),
]
SENTENCE = "Vitamin D supplementation lowers the risk of hip fractures in older adults"
CLAIM = "Vitamin D supplementation has been shown to lower the risk of hip fractures in older adults."
MISSING_KEY = "nosuchkey2020"
TEX = "\n".join([
    r"\documentclass{article}",
    r"\begin{document}",
    r"Bed nets reduce malaria transmission \cite{malaria}.",
    "",
    rf"Spiral galaxies rotate too fast \cite{{{MISSING_KEY}}}.",
    "",
    CLAIM,  # cites nothing: the code action offers citations
    "",
    SENTENCE + r" \cite{",  # its own paragraph: the words ranked are the sentence's only
    r"\end{document}",
    "",
])
MARKDOWN = SENTENCE + " [@\n"

# Runs inside Neovim. Everything it learns goes to $SCIMULT_NVIM_OUT as JSON; any error too.
CLIENT_LUA = r"""
local out_path = vim.env.SCIMULT_NVIM_OUT
local timeout = tonumber(vim.env.SCIMULT_NVIM_TIMEOUT_MS)
local version = vim.version()
local report = { nvim = string.format('%d.%d.%d', version.major, version.minor, version.patch), messages = {} }

local function finish()
  local file = assert(io.open(out_path, 'w'))
  file:write(vim.fn.json_encode(report))
  file:close()
  vim.cmd('qall!')
end

local function results(responses)
  local found = {}
  for _, response in pairs(responses or {}) do
    if response.error then error('server error: ' .. (response.error.message or vim.inspect(response.error))) end
    if response.result ~= nil and response.result ~= vim.NIL then table.insert(found, response.result) end
  end
  return found
end

-- Labels in the order an editor shows them (by sortText, as the protocol says).
local function completion_labels(responses)
  local items = {}
  for _, result in ipairs(results(responses)) do
    for _, item in ipairs(result.items or result) do table.insert(items, item) end
  end
  table.sort(items, function(a, b) return (a.sortText or a.label) < (b.sortText or b.label) end)
  return vim.tbl_map(function(item) return item.label end, items)
end

local function hover_text(responses)
  local parts = {}
  for _, result in ipairs(results(responses)) do
    local contents = result.contents
    if type(contents) == 'string' then table.insert(parts, contents)
    elseif contents.value then table.insert(parts, contents.value)
    else
      for _, piece in ipairs(contents) do table.insert(parts, type(piece) == 'string' and piece or piece.value) end
    end
  end
  return table.concat(parts, '\n')
end

local function code_actions(responses)
  local actions = {}
  for _, result in ipairs(results(responses)) do
    for _, action in ipairs(result) do
      local inserted = {}
      local changes = action.edit and action.edit.changes or {}
      for _, edits in pairs(changes) do
        for _, edit in ipairs(edits) do table.insert(inserted, edit.newText) end
      end
      for _, change in ipairs(action.edit and action.edit.documentChanges or {}) do
        for _, edit in ipairs(change.edits or {}) do table.insert(inserted, edit.newText) end
      end
      table.insert(actions, { title = action.title, inserted = inserted })
    end
  end
  return actions
end

local function open_and_attach(path, client_id)
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  assert(vim.lsp.buf_attach_client(bufnr, client_id), 'buf_attach_client failed for ' .. path)
  return bufnr, vim.uri_from_bufnr(bufnr)
end

-- The 0-based line holding `needle` (plain text) and that line.
local function find_line(bufnr, needle)
  for index, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)) do
    if text:find(needle, 1, true) then return index - 1, text end
  end
  error('no line with ' .. needle)
end

local function request(bufnr, method, params)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, timeout)
  if err then error(method .. ': ' .. tostring(err)) end
  return responses
end

local ok, failure = pcall(function()
  local initialized = false
  local client_id = vim.lsp.start_client({
    name = 'scimult',
    cmd = vim.fn.json_decode(vim.env.SCIMULT_NVIM_CMD),
    root_dir = vim.env.SCIMULT_NVIM_ROOT,
    on_init = function() initialized = true end,
    on_exit = function(code, signal) report.server_exit = { code = code, signal = signal } end,
    -- What the server tells the user (e.g. why completion is off) explains a failure here.
    handlers = { ['window/showMessage'] = function(_, result) table.insert(report.messages, result.message) end },
  })
  assert(client_id, 'vim.lsp.start_client returned nil')
  assert(vim.wait(timeout, function() return initialized or report.server_exit ~= nil end, 50), 'no initialize response')
  assert(initialized, 'server exited before initializing')

  local tex, tex_uri = open_and_attach(vim.env.SCIMULT_NVIM_TEX, client_id)
  local typing, typing_text = find_line(tex, 'older adults \\cite{')
  local cursor = { line = typing, character = #typing_text }
  report.completion = completion_labels(request(tex, 'textDocument/completion',
    { textDocument = { uri = tex_uri }, position = cursor }))

  local cited, cited_text = find_line(tex, '{malaria}')
  report.hover = hover_text(request(tex, 'textDocument/hover',
    { textDocument = { uri = tex_uri }, position = { line = cited, character = cited_text:find('{malaria}', 1, true) + 2 } }))

  local claim = { line = find_line(tex, 'has been shown'), character = 10 }
  report.code_actions = code_actions(request(tex, 'textDocument/codeAction',
    { textDocument = { uri = tex_uri }, range = { start = claim, ['end'] = claim }, context = { diagnostics = {} } }))

  -- Diagnostics arrive on their own (published after the document opened).
  vim.wait(timeout, function() return #vim.diagnostic.get(tex) > 0 end, 50)
  report.diagnostics = vim.tbl_map(function(d) return { line = d.lnum, message = d.message } end, vim.diagnostic.get(tex))
  report.missing_line = find_line(tex, '{' .. vim.env.SCIMULT_NVIM_MISSING_KEY .. '}')

  local md, md_uri = open_and_attach(vim.env.SCIMULT_NVIM_MD, client_id)
  local md_line = vim.api.nvim_buf_get_lines(md, 0, 1, true)[1]
  report.pandoc_completion = completion_labels(request(md, 'textDocument/completion',
    { textDocument = { uri = md_uri }, position = { line = 0, character = #md_line } }))
end)
if not ok then report.error = tostring(failure) end
finish()
"""


def _server_command(library: Path) -> list[str]:
    """`scimult --library DIR lsp` from this interpreter's environment."""
    script = Path(sys.executable).with_name("scimult")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "scimult_desktop"]
    return [*launcher, "--library", str(library), "lsp"]


@pytest.fixture(scope="module")
def nvim() -> str:
    pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")
    path = shutil.which("nvim")
    if path is None:
        pytest.skip("nvim not installed (apt-get install neovim; .ci/run does it): the Neovim client test is skipped")
    return path


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> Path:
    """A models folder with one tiny real (random-weight) bundle installed."""
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    root = tmp_path_factory.mktemp("nvim-models")
    bundle = testing.build_tiny_bundle(root / "bundle", name="tiny-nvim", distinct_experts=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIMULT_MODELS_DIR", str(root / "models"))
        patch.setenv("SCIMULT_CONFIG_DIR", str(root / "config"))
        from scimult_desktop.services.models import bundles

        bundles.install(bundle)
    return root / "models"


@pytest.fixture
def indexed_library(tiny_models, tmp_path, monkeypatch) -> Path:
    """Five papers imported and indexed with the tiny model; the server sees the same folders."""
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(tiny_models))
    bib = tmp_path / "refs.bib"
    bib.write_text("".join(bib_entry(key, title, abstract=abstract) for key, title, abstract in PAPERS), encoding="utf-8")
    from scimult_desktop.services.library.facade import Library

    with Library.open(tmp_path / "library") as library:
        assert library.import_paths([bib]).added == len(PAPERS)
        library.index()
    return tmp_path / "library"


def _run_nvim(nvim: str, library: Path, work: Path) -> dict:
    (work / "draft.tex").write_text(TEX, encoding="utf-8")
    (work / "draft.md").write_text(MARKDOWN, encoding="utf-8")
    (work / "client.lua").write_text(CLIENT_LUA, encoding="utf-8")
    out = work / "nvim-result.json"
    editor_home = work / "nvim-home"  # Neovim's logs, state and shada stay out of the real home
    env = {
        **os.environ,
        "SCIMULT_NVIM_OUT": str(out),
        "SCIMULT_NVIM_TIMEOUT_MS": str(REQUEST_TIMEOUT_MS),
        "SCIMULT_NVIM_CMD": json.dumps(_server_command(library)),
        "SCIMULT_NVIM_ROOT": str(work),
        "SCIMULT_NVIM_TEX": str(work / "draft.tex"),
        "SCIMULT_NVIM_MD": str(work / "draft.md"),
        "SCIMULT_NVIM_MISSING_KEY": MISSING_KEY,
        **{f"XDG_{kind}_HOME": str(editor_home / kind.lower()) for kind in ("CONFIG", "DATA", "STATE", "CACHE")},
    }
    command = [nvim, "--headless", "--clean", "-c", f"luafile {work / 'client.lua'}"]
    try:
        run = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=NVIM_TIMEOUT_S,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"nvim did not finish within {NVIM_TIMEOUT_S} s; stderr: {expired.stderr}")
    logs = "\n".join(path.read_text(errors="replace")[-4000:] for path in editor_home.rglob("lsp.log"))
    assert out.is_file(), f"nvim wrote no result (exit {run.returncode}): {run.stderr[-2000:]}\n{logs}"
    result = json.loads(out.read_text())
    assert "error" not in result, f"{result['error']}\nLSP log:\n{logs}"
    return result


@pytest.mark.slow
def test_neovim_gets_completion_hover_code_action_and_diagnostics(nvim, indexed_library, tmp_path):
    result = _run_nvim(nvim, indexed_library, tmp_path)
    assert result["completion"], f"no completion; the server said: {result['messages']}"
    keys = {key for key, _, _ in PAPERS}
    # 'vitd' first (see PAPERS); other papers may follow it.
    assert result["completion"] and result["completion"][0] == "vitd", result["completion"]
    assert set(result["completion"]) <= keys
    assert result["pandoc_completion"] and result["pandoc_completion"][0] == "vitd", result["pandoc_completion"]
    assert "Malaria transmission and bed nets" in result["hover"], result["hover"]
    # The claim shares words only with 'vitd' too: the first action cites it.
    assert result["code_actions"] and "vitd" in "".join(result["code_actions"][0]["inserted"]), result["code_actions"]
    flagged = [d for d in result["diagnostics"] if MISSING_KEY in d["message"]]
    assert [d["line"] for d in flagged] == [result["missing_line"]], result["diagnostics"]
