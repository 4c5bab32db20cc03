#!/usr/bin/env bash
# Build the self-contained Linux app folder dist/SciMult/ (PyInstaller, one folder, no torch).
#
#   packaging/build_linux.sh [--rebuild-model] [--skip-smoke-test]
#
# Steps:
#   1. a clean build venv (build/pack/venv) with the runtime deps + the `gui`, `cite` and `package`
#      extras only: torch, transformers and the training package are never installed there;
#   2. the default model, built once with torch by `scimult model build-default` from the
#      *source* venv ($SCIMULT_TRAIN_PYTHON, default .venv/bin/python) into build/pack/staging-models;
#   3. PyInstaller (packaging/pyinstaller/scimult.spec), niced: it is slow on small machines;
#   4. the model copied into dist/SciMult/models/ (read-only), desktop files into dist/SciMult/share/;
#   5. checks: no torch/transformers/scimult_train inside, size; then packaging/smoke_test.py.
# Everything it writes is under build/ and dist/ (both ignored by git).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TRAIN_PYTHON="${SCIMULT_TRAIN_PYTHON:-$ROOT/.venv/bin/python}"
BASE_PYTHON="${PYTHON:-python3}"
WORK="$ROOT/build/pack"
BUILD_VENV="$WORK/venv"
STAGING_MODELS="$WORK/staging-models"
APP="$ROOT/dist/SciMult"
APP_ID="io.github.scimult.SciMultDesktop"
NICE=(nice -n 10)
REBUILD_MODEL=0
SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --rebuild-model) REBUILD_MODEL=1 ;;
    --skip-smoke-test) SMOKE=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown option $arg" >&2; exit 2 ;;
  esac
done
step() { echo "== $*" >&2; }

step "build venv $BUILD_VENV (runtime + gui + cite + package extras; no torch)"
mkdir -p "$WORK"
if [ ! -x "$BUILD_VENV/bin/python" ]; then
  "$BASE_PYTHON" -m venv "$BUILD_VENV"
  "${NICE[@]}" "$BUILD_VENV/bin/pip" install --quiet --upgrade pip
fi
# A regular (not editable) install: PyInstaller then sees exactly what a user's wheel has.
"${NICE[@]}" "$BUILD_VENV/bin/pip" install --quiet ".[gui,cite,package]"
"${NICE[@]}" "$BUILD_VENV/bin/pip" install --quiet --no-deps --force-reinstall .
if "$BUILD_VENV/bin/python" -c "import importlib.util as u, sys; sys.exit(0 if any(u.find_spec(m) for m in ('torch', 'transformers', 'scimult_train')) else 1)"; then
  echo "error: the build venv contains torch/transformers/scimult_train; delete $BUILD_VENV and rerun" >&2
  exit 1
fi

MODEL_DIR="$STAGING_MODELS/minilm-scimult-moe"
# A staged default built before the trained weights in resources/models shipped (or from other
# ones) is rebuilt, so the app never ships an outdated default (services/models/default_freshness.py).
staged_outdated() {
  [ -f "$MODEL_DIR/bundle.json" ] && "$TRAIN_PYTHON" -c "import json, sys
from scimult_desktop.services.models.default_freshness import outdated_reason
manifest = json.load(open(sys.argv[1], encoding='utf-8'))
reason = outdated_reason(manifest['name'], manifest.get('source', {}))
print(f'staged default is outdated: {reason}', file=sys.stderr) if reason else None
sys.exit(0 if reason else 1)" "$MODEL_DIR/bundle.json"
}
if [ "$REBUILD_MODEL" = 1 ] || [ ! -f "$MODEL_DIR/bundle.json" ] || staged_outdated; then
  step "default model with torch ($TRAIN_PYTHON) -> $STAGING_MODELS"
  rm -rf "$STAGING_MODELS"
  SCIMULT_MODELS_DIR="$STAGING_MODELS" SCIMULT_CONFIG_DIR="$WORK/staging-config" HF_HUB_OFFLINE=1 \
    "${NICE[@]}" "$TRAIN_PYTHON" -m scimult_desktop model build-default
else
  step "default model already staged in $MODEL_DIR (--rebuild-model to rebuild)"
fi

step "PyInstaller (slow: several minutes on 2 cores)"
if [ -d "$APP" ]; then chmod -R u+w "$APP"; rm -rf "$APP"; fi  # models/ is read-only
"${NICE[@]}" "$BUILD_VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$WORK/pyinstaller" packaging/pyinstaller/scimult.spec

step "bundled model and desktop files"
mkdir -p "$APP/models"
# cp -a keeps modification times, so the stored bundle fingerprint stays valid (no re-hash at start).
# torch/ (weights for further training) is left out: the app only runs the ONNX graphs.
for bundle in "$STAGING_MODELS"/*/; do
  name="$(basename "$bundle")"
  mkdir -p "$APP/models/$name"
  find "$bundle" -maxdepth 1 -type f -exec cp -a {} "$APP/models/$name/" \;
done
chmod -R a-w "$APP/models"
mkdir -p "$APP/share/applications" "$APP/share/metainfo" "$APP/share/icons/hicolor/scalable/apps"
cp packaging/linux/$APP_ID.desktop "$APP/share/applications/"
cp packaging/linux/$APP_ID.metainfo.xml "$APP/share/metainfo/"
cp packaging/icons/scimult-desktop.svg "$APP/share/icons/hicolor/scalable/apps/$APP_ID.svg"
for png in packaging/icons/png/*.png; do
  size="$(basename "$png" .png)"
  mkdir -p "$APP/share/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$APP/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
cp packaging/linux/install-desktop-entry.sh "$APP/"
cp NOTICE CHANGELOG.md "$APP/"

step "checks"
# Top-level packages only: onnxruntime has a harmless `onnxruntime/transformers` tooling folder.
leaked="$(find "$APP/_internal" -maxdepth 1 \( -iname 'torch*' -o -iname 'transformers*' -o -iname 'scimult_train*' \) -print | head -5)"
leaked="$leaked$(find "$APP" -iname 'libtorch*' -print | head -5)"
# Python modules may sit inside the executables' archive, where find cannot see them: ask the analysis.
leaked="$leaked$(grep -oE "\('(torch|transformers|scimult_train)(\.[A-Za-z0-9_.]*)?'," "$WORK/pyinstaller/scimult/Analysis-00.toc" | head -5 || true)"
if [ -n "$leaked" ]; then
  echo "error: the bundle contains training libraries:" >&2
  echo "$leaked" >&2
  exit 1
fi
echo "bundle: $APP"
for part in "$APP" "$APP/_internal" "$APP/_internal/PySide6" "$APP/models"; do du -sh "$part"; done | sed 's/^/  /'

if [ "$SMOKE" = 1 ]; then
  step "smoke test"
  "$BASE_PYTHON" packaging/smoke_test.py --app "$APP"
fi
