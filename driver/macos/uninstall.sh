#!/usr/bin/env bash
# Removes the AudioServerPlugIn and restarts coreaudiod. macOS only; needs sudo.
set -euo pipefail
if [[ "$(uname)" != Darwin ]]; then
  echo "uninstall.sh: the AudioServerPlugIn runs on macOS only" >&2
  exit 1
fi
target=/Library/Audio/Plug-Ins/HAL/AES67Device.driver
if [[ -d "$target" ]]; then
  rm -rf "$target"
  launchctl kickstart -k system/com.apple.audio.coreaudiod 2>/dev/null || killall coreaudiod
  echo "removed $target; coreaudiod restarted"
else
  echo "nothing to remove: $target is not installed"
fi
