#!/bin/sh
# Put fieldkit.app into a compressed disk image (a recipe: run on macOS, where hdiutil exists).
#     packaging/macos/make-dmg.sh build/pyinstaller/dist/fieldkit.app dist/fieldkit-0.1.0-macos-arm64.dmg
# The image holds the app, a link to /Applications and the text on keeping or erasing the profile.
set -eu
app=$1
target=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
cp "$(dirname "$0")/README-macOS.txt" "$stage/"
rm -f "$target"
hdiutil create -volname fieldkit -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$target"
