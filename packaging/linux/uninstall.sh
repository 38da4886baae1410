#!/bin/sh
# Remove fieldkit's menu entry and icons. The program folder you unpacked is removed by you
# (delete it). Your PROFILE IS NOT REMOVED: it holds your encrypted records and evidence.
# To destroy the profile too, run this BEFORE uninstalling (it asks for confirmation):
#     ./fieldkit erase
set -eu
data=${XDG_DATA_HOME:-$HOME/.local/share}
rm -f "$data/applications/org.fieldkit.fieldkit.desktop" "$data/metainfo/org.fieldkit.fieldkit.metainfo.xml"
rm -f "$data"/icons/hicolor/*/apps/org.fieldkit.fieldkit.*
echo "Menu entry removed. Your encrypted profile was kept; delete this folder to remove the program."
echo "To destroy the profile as well, run './fieldkit erase' before deleting the folder."
