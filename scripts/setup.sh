#!/usr/bin/env bash
# Set up ca-shark on a fresh Debian 12 machine with Node.js 20: system packages, pnpm, the locked
# dependencies, a build of every package, and `ca-shark`, `ca-sharkd`, `ca-sim` on the PATH.
# Idempotent and non-interactive; run it again after pulling.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PNPM_VERSION=12.4.2
# Debian packages: libpcap-dev and a C++ toolchain build the `cap` addon; tcpdump, chromium and
# python3-pyepics (with libca, the EPICS C client library) are what the tests and benchmarks drive; tshark
# (with capinfos) checks that the pcapng files ca-shark writes are read by Wireshark; nats-server runs the
# sensor/central tests.
APT_PACKAGES=(libpcap-dev build-essential python3 tcpdump tcpreplay chromium python3-pyepics iproute2 tshark nats-server)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
  if ! command -v sudo >/dev/null 2>&1; then
    say "not root and no sudo: run 'su -c ./scripts/setup.sh' or install sudo"; exit 1
  fi
  say "not root: system packages and links need 'sudo' (you may be asked for your password)"
else
  SUDO=
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"; exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  $SUDO npm install -g --silent "pnpm@$PNPM_VERSION"
fi

# node-gyp must build `cap` against the installed Node headers, not download them.
export npm_config_nodedir=/usr
say "installing dependencies from the lockfile"
pnpm install --frozen-lockfile --reporter=silent

say "building"
pnpm run build

# Link the commands into /usr/local/bin (or ~/.local/bin without root).
BIN_DIR=/usr/local/bin
if [ -n "$SUDO" ] && ! $SUDO -n true 2>/dev/null; then BIN_DIR="$HOME/.local/bin"; SUDO=; mkdir -p "$BIN_DIR"; fi
for cmd in ca-shark:cli ca-sharkd:daemon ca-sim:sim; do
  name=${cmd%%:*}; pkg=${cmd##*:}
  target="$ROOT/packages/$pkg/dist/main.js"
  if [ -f "$target" ]; then
    chmod +x "$target"
    $SUDO ln -sf "$target" "$BIN_DIR/$name"
  fi
done
say "done: $(for c in ca-shark ca-sharkd ca-sim; do command -v $c >/dev/null && printf '%s ' $c; done)on the PATH"
