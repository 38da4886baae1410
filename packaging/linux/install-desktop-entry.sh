#!/bin/sh
# Add fieldkit to this user's application menu, running it from the folder this script is in.
# Nothing is copied: move the folder first if you want it elsewhere, then run this again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/metainfo"
sed "s|^Exec=fieldkit-desktop|Exec=\"$here/fieldkit-desktop\"|" \
  "$here/share/applications/org.fieldkit.fieldkit.desktop" > "$data/applications/org.fieldkit.fieldkit.desktop"
cp "$here/share/metainfo/org.fieldkit.fieldkit.metainfo.xml" "$data/metainfo/"
for icon in "$here"/share/icons/hicolor/*/apps/org.fieldkit.fieldkit.*; do
  size=$(basename "$(dirname "$(dirname "$icon")")")
  mkdir -p "$data/icons/hicolor/$size/apps"
  cp "$icon" "$data/icons/hicolor/$size/apps/"
done
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
echo "fieldkit is in the application menu (it runs from $here)."
