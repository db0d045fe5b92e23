#!/usr/bin/env bash
# Installs the AudioServerPlugIn into /Library/Audio/Plug-Ins/HAL and restarts coreaudiod so
# it loads it. macOS only; needs sudo. Usage: sudo driver/macos/install.sh [path/to/AES67Device.driver]
set -euo pipefail
if [[ "$(uname)" != Darwin ]]; then
  echo "install.sh: the AudioServerPlugIn runs on macOS only" >&2
  exit 1
fi
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-$here/../../build/Release/AES67Device.driver}"
if [[ ! -d "$bundle" ]]; then
  bundle="$(find "$here/../../build" -name AES67Device.driver -type d -maxdepth 4 2>/dev/null | head -n 1)"
fi
if [[ -z "$bundle" || ! -d "$bundle" ]]; then
  echo "install.sh: AES67Device.driver not found: build it first (npm run build on macOS) or pass its path" >&2
  exit 1
fi
target=/Library/Audio/Plug-Ins/HAL/AES67Device.driver
rm -rf "$target"
cp -R "$bundle" "$target"
chown -R root:wheel "$target"
# coreaudiod loads plug-ins when it starts.
launchctl kickstart -k system/com.apple.audio.coreaudiod 2>/dev/null || killall coreaudiod
echo "installed $target; coreaudiod restarted"
