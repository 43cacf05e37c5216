#!/usr/bin/env bash
# Record a realistic Channel Access capture on the loopback interface for benchmarks:
#   scripts/make-capture.sh SIZE_MB OUT.pcap [--realistic] [--clients N] [--pvs N] [--rate HZ] [--nano] [--port P] [--beacon-port B]
# Starts a simulated IOC (ca-sim ioc) and repeated client workloads (ca-sim load, with a small search
# storm), records them with tcpdump on `lo` until OUT.pcap holds SIZE_MB megabytes, then stops everything.
# --realistic: a facility-like mix instead: 30,000-element DOUBLE waveforms at 10 Hz and 100-element ones
# at 20 Hz, scalar TIME/CTRL monitors, TIME/CTRL reads and writes, a search storm, and an IOC restart half way.
# --jumbo: large waveforms only (100,000 elements at 2 Hz, 30,000 at 10 Hz): nearly every frame a 64 KiB segment.
# Uses the standard CA ports 5064/5065 when TCP 5064 is free (decoders recognise them), else free ports.
# Needs tcpdump, the right to capture (root or CAP_NET_RAW), and a built packages/sim or `ca-sim`.
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && usage 0
[ $# -ge 2 ] || usage
SIZE_MB=$1; OUT=$2; shift 2
CLIENTS=4; PVS=200; RATE=; PRECISION=(); PORT=; BEACON=; REALISTIC=; JUMBO=
while [ $# -gt 0 ]; do
  case $1 in
    --realistic) REALISTIC=1; shift ;;
    --jumbo) JUMBO=1; shift ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --pvs) PVS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --nano) PRECISION=(--time-stamp-precision=nano); shift ;;
    --port) PORT=$2; shift 2 ;;
    --beacon-port) BEACON=$2; shift 2 ;;
    *) echo "make-capture: unknown option $1" >&2; usage ;;
  esac
done
case $SIZE_MB in ''|*[!0-9.]*) echo "make-capture: SIZE_MB must be a number" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$ROOT/packages/sim/dist/main.js" ]; then SIM=(node "$ROOT/packages/sim/dist/main.js")
elif command -v ca-sim >/dev/null 2>&1; then SIM=(ca-sim)
else echo "make-capture: build first (pnpm run build) or put ca-sim on the PATH" >&2; exit 1; fi
command -v tcpdump >/dev/null || { echo "make-capture: tcpdump is not installed" >&2; exit 1; }

# The IOC's UDP+TCP port and the beacon destination: 5064/5065 if TCP 5064 is free, else free ports.
if [ -z "$PORT" ] || [ -z "$BEACON" ]; then
  read -r FREE_PORT FREE_BEACON < <(node -e '
    const net = require("node:net");
    const probe = (port) => new Promise((resolve) => { const s = net.createServer();
      s.once("error", () => resolve(0)); s.listen(port, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });
    (async () => { const std = await probe(5064);
      if (std) { console.log("5064 5065"); return; }
      console.log(`${await probe(0)} ${await probe(0)}`); })();')
  PORT=${PORT:-$FREE_PORT}; BEACON=${BEACON:-$FREE_BEACON}
fi
TARGET=$(awk -v m="$SIZE_MB" 'BEGIN { printf "%d", m * 1048576 }')
# Scalars update at 50 Hz in the default mix; at 10 Hz (a typical scan rate) in the realistic one.
RATE=${RATE:-$([ -n "$REALISTIC" ] && echo 10 || echo 50)}
IOC_ARGS=(--port "$PORT" --tcp-port "$PORT" --beacon-port "$BEACON" --beacon-period 1 --pvs "$PVS" --rate "$RATE")
# Waveforms: one 30,000-element DOUBLE at 10 Hz (240 kB per update, in 64 KiB segments on lo) and ten
# 100-element ones at 20 Hz.
[ -n "$REALISTIC" ] && IOC_ARGS+=(--waveform 30000@10 --waveform 100@20x10)
WAVE_NAMES="sim:wave30000_0"
for i in $(seq 0 9); do WAVE_NAMES="$WAVE_NAMES,sim:wave100_$i"; done
[ -n "$JUMBO" ] && IOC_ARGS+=(--waveform 100000@2 --waveform 30000@10)
# Only the processes running now: loads first, then the IOC, the repeater and tcpdump (so it flushes last).
LOADS=(); IOC=; REPEATER=; TCPDUMP=
cleanup() {
  local pids=("${LOADS[@]}" $IOC $REPEATER $TCPDUMP)
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

LOG=$(mktemp)
# A 64 MiB kernel buffer (-B, in KiB): the waveform mixes send bursts of 64 KiB segments.
tcpdump -i lo -U -s 0 -B 65536 "${PRECISION[@]}" -w "$OUT" "port $PORT or port $BEACON" 2>"$LOG" &
TCPDUMP=$!
for _ in $(seq 100); do grep -q 'listening on' "$LOG" && break; sleep 0.05; done
grep -q 'listening on' "$LOG" || { cat "$LOG" >&2; echo "make-capture: tcpdump did not start" >&2; exit 1; }

# A repeater on the beacon port (unless one already runs there): clients register with it and get the
# beacons forwarded, as on a real host.
"${SIM[@]}" repeater --port "$BEACON" >/dev/null 2>&1 &
REPEATER=$!
start_ioc() {
  "${SIM[@]}" ioc "${IOC_ARGS[@]}" >/dev/null &
  IOC=$!
  sleep 0.5
}
start_ioc

size() { stat -c %s "$OUT" 2>/dev/null || echo 0; }
COMMON=(--port "$PORT" --addr-list 127.0.0.1 --repeater-port "$BEACON")
seed=1
RESTARTED=
while [ "$(size)" -lt "$TARGET" ]; do
  LOADS=()
  if [ -n "$JUMBO" ]; then
    "${SIM[@]}" load "${COMMON[@]}" --names sim:wave100000_0,sim:wave30000_0 --clients 1 --channels 2 --monitors 2 \
      --ops 1 --write-share 0 --families time,ctrl --duration 20 --seed "$seed" >/dev/null &
    LOADS+=("$!")
  elif [ -n "$REALISTIC" ]; then
    # Scalar clients: TIME/CTRL (and some plain) monitors, reads and writes, and a 300-name search storm.
    "${SIM[@]}" load "${COMMON[@]}" --pvs "$PVS" --clients "$CLIENTS" --channels 100 --monitors 60 --ops 600 \
      --families time,ctrl,plain --storm 300 --duration 20 --seed "$seed" >/dev/null &
    LOADS+=("$!")
    # A waveform client (a display or archiver): monitors every waveform, reads now and then.
    "${SIM[@]}" load "${COMMON[@]}" --names "$WAVE_NAMES" --clients 1 --channels 11 --monitors 11 --ops 2 \
      --write-share 0.05 --families time,ctrl --duration 20 --seed "$seed" >/dev/null &
    LOADS+=("$!")
  else
    "${SIM[@]}" load "${COMMON[@]}" --pvs "$PVS" --clients "$CLIENTS" \
      --channels 100 --monitors 60 --ops 1000 --storm 10 --duration 10 --seed "$seed" >/dev/null &
    LOADS+=("$!")
  fi
  while kill -0 "${LOADS[0]}" 2>/dev/null || kill -0 "${LOADS[@]: -1}" 2>/dev/null; do
    if [ "$(size)" -ge "$TARGET" ]; then kill -TERM "${LOADS[@]}" 2>/dev/null || true; fi
    # The IOC reboots half way: circuits close, clients search again, beacons restart from 0.
    if [ -n "$REALISTIC" ] && [ -z "$RESTARTED" ] && [ "$(size)" -ge $((TARGET / 2)) ]; then
      RESTARTED=1
      kill -TERM "$IOC" 2>/dev/null || true
      wait "$IOC" 2>/dev/null || true
      sleep 1
      start_ioc
    fi
    sleep 0.2
  done
  for pid in "${LOADS[@]}"; do wait "$pid" 2>/dev/null || true; done
  LOADS=()
  seed=$((seed + 1))
done
cleanup
trap - EXIT
# tcpdump says on exit how many packets the kernel dropped: a capture with drops has gaps in its streams.
DROPPED=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$LOG")
rm -f "$LOG"
echo "make-capture: wrote $OUT ($(size) bytes, CA on UDP/TCP port $PORT, beacons to $BEACON)"
if [ "${DROPPED:-0}" != 0 ]; then echo "make-capture: warning: tcpdump dropped $DROPPED packets (streams have gaps)" >&2; fi
if [ "$PORT" != 5064 ]; then echo "make-capture: non-standard port: decode with 'ca-shark --ports $PORT'"; fi
