#!/usr/bin/env sh
# Add the SciMult app folder to your desktop menu (run from inside the unpacked SciMult/ folder).
#
#   ./install-desktop-entry.sh            # for this user (~/.local), no root needed
#   ./install-desktop-entry.sh --remove   # undo
#
# Installs the .desktop file (Exec pointing at this folder), the icons, and links
# `scimult` / `scimult-desktop` into ~/.local/bin. The app folder itself stays where it is.
set -eu
APP_ID="io.github.scimult.SciMultDesktop"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN="$HOME/.local/bin"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$DATA/applications/$APP_ID.desktop" "$BIN/scimult" "$BIN/scimult-desktop"
  find "$DATA/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$DATA/applications" || true
  echo "removed the SciMult Desktop menu entry and links"
  exit 0
fi

mkdir -p "$DATA/applications" "$BIN"
sed "s|^Exec=scimult-desktop|Exec=\"$HERE/scimult-desktop\"|" "$HERE/share/applications/$APP_ID.desktop" > "$DATA/applications/$APP_ID.desktop"
cp -R "$HERE/share/icons/." "$DATA/icons/"
for exe in scimult scimult-desktop; do
  if [ -x "$HERE/$exe" ]; then ln -sf "$HERE/$exe" "$BIN/$exe"; fi
done
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "installed: $DATA/applications/$APP_ID.desktop (links in $BIN)"
