#!/usr/bin/env bash
# Compare `ca-shark`'s default text with caproto-shark's, message by message (issue 14).
#
#   scripts/caproto-compare.sh [--update] [CAPTURE_DIR]
#
# For every capture in CAPTURE_DIR (default: packages/packet/fixtures, the shared real captures), it writes
# what caproto-shark can read into packages/cli/fixtures/caproto/: classic pcap files pass as they are;
# pcapng files are converted with `editcap -F pcap` (microsecond timestamps) and Linux cooked (SLL) frames
# get an Ethernet header (scripts/pcap-to-ether.py), because caproto-shark reads only classic pcap and
# parses every frame as Ethernet. It runs caproto-shark on each and compares with `git diff` what it
# printed against the committed expected output; --update keeps the new output. Then it runs the test
# that compares ca-shark with those outputs (packages/cli/src/caproto-compat.test.ts).
#
# Needs: caproto-shark on PATH or in $CAPROTO_VENV/bin (default /tmp/caproto-venv; make one with
# `python3 -m venv --system-site-packages /tmp/caproto-venv && /tmp/caproto-venv/bin/pip install caproto`,
# numpy and dpkt from Debian: python3-numpy python3-dpkt), editcap (wireshark-common) and a built tree.
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
src_dir="${1:-packages/packet/fixtures}"
out_dir=packages/cli/fixtures/caproto
venv="${CAPROTO_VENV:-/tmp/caproto-venv}"
shark="$(command -v caproto-shark || echo "$venv/bin/caproto-shark")"
[ -x "$shark" ] || { echo "caproto-compare: caproto-shark not found (set CAPROTO_VENV)" >&2; exit 2; }
command -v editcap >/dev/null || { echo "caproto-compare: editcap not found (apt-get install wireshark-common)" >&2; exit 2; }
"$shark" --version

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for capture in "$src_dir"/*.pcap "$src_dir"/*.pcapng "$src_dir"/*.cap; do
  [ -f "$capture" ] || continue
  name="$(basename "$capture")"
  magic="$(od -An -tx4 -N4 "$capture" | tr -d ' ')"
  if [ "$magic" = "a1b2c3d4" ] && [ "$(od -An -tu4 -j20 -N4 "$capture" | tr -d ' ')" = "1" ]; then
    input="$out_dir/$name"
  else
    input="$out_dir/$name.ether.pcap"
    editcap -F pcap "$capture" "$tmp/$name.pcap"
    python3 scripts/pcap-to-ether.py "$tmp/$name.pcap" "$tmp/$name.ether.pcap"
  fi
  expected="$input.caproto.txt"
  if [ "$update" = 1 ]; then
    [ "$input" = "$out_dir/$name" ] && cp "$capture" "$input" || cp "$tmp/$name.ether.pcap" "$input"
    "$shark" < "$input" > "$expected"
  else
    [ "$input" = "$out_dir/$name" ] || input="$tmp/$name.ether.pcap"
    "$shark" < "$input" > "$tmp/out.txt"
    if ! diff -q "$tmp/out.txt" "$expected" >/dev/null; then
      echo "caproto-compare: caproto-shark's output for $name differs from $expected (run with --update):" >&2
      diff "$expected" "$tmp/out.txt" | head -20 >&2
      exit 1
    fi
  fi
  echo "$name: $(wc -l < "$expected") caproto-shark lines"
done
pnpm exec vitest run packages/cli/src/caproto-compat.test.ts
