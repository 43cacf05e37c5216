#!/usr/bin/env bash
# Compare `ca-shark`'s default text with caproto-shark's, message by message (issue 14).
#
#   scripts/caproto-compare.sh [--update] [CAPTURE_DIR]
#
# For every capture in CAPTURE_DIR (default: packages/packet/fixtures, the shared real captures) and for
# packages/decoder/fixtures/libca-sim.pcap (libca against ca-sim, with monitors of 16-byte updates), it writes
# what caproto-shark can read into packages/cli/fixtures/caproto/: classic pcap files pass as they are;
# pcapng files are converted with `editcap -F pcap` (microsecond timestamps) and Linux cooked (SLL) frames
# get an Ethernet header (scripts/pcap-to-ether.py), because caproto-shark reads only classic pcap and
# parses every frame as Ethernet. It does the same for caproto-names.pcap, the messages caproto-shark
# names by header heuristics (written by scripts/caproto-edge-capture.py on --update). It runs
# caproto-shark on each and compares what it printed against the committed expected output; --update
# keeps the new output. Then it runs the test that compares ca-shark with those outputs
# (packages/cli/src/caproto-compat.test.ts).
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

# check_output NAME INPUT EXPECTED: caproto-shark's output for INPUT must be EXPECTED (with --update: becomes it).
check_output() {
  if [ "$update" = 1 ]; then
    "$shark" < "$2" > "$3"
  else
    "$shark" < "$2" > "$tmp/out.txt"
    if ! diff -q "$tmp/out.txt" "$3" >/dev/null; then
      echo "caproto-compare: caproto-shark's output for $1 differs from $3 (run with --update):" >&2
      diff "$3" "$tmp/out.txt" | head -20 >&2
      exit 1
    fi
  fi
  echo "$1: $(wc -l < "$3") caproto-shark lines"
}

for capture in "$src_dir"/*.pcap "$src_dir"/*.pcapng "$src_dir"/*.cap packages/decoder/fixtures/libca-sim.pcap; do
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
  elif [ "$input" != "$out_dir/$name" ]; then
    input="$tmp/$name.ether.pcap"
  fi
  check_output "$name" "$input" "$expected"
done
names="$out_dir/caproto-names.pcap"
if [ "$update" = 1 ]; then
  python="$venv/bin/python3"
  [ -x "$python" ] || python=python3
  "$python" scripts/caproto-edge-capture.py "$names"
fi
check_output caproto-names.pcap "$names" "$names.caproto.txt"
pnpm exec vitest run packages/cli/src/caproto-compat.test.ts
