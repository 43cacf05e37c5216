/**
 * Live-capture benchmark: a child process sends UDP datagrams to 127.0.0.1 at increasing rates for a bounded
 * time while this process captures them on `lo` through openLive() (copying every frame, as consumers get
 * them). Prints, per rate, what was sent, captured and dropped by the kernel, the worst event-loop stall, and
 * at the end the highest rate captured without any drop and the peak RSS. Needs root (or CAP_NET_RAW).
 *
 *   sudo pnpm --filter @ca-shark/capture bench        (or `pnpm bench` at the root, as root)
 *
 * Environment: CAPTURE_BENCH_BUFFER_MB (kernel buffer, default the library's 32 MiB),
 * CAPTURE_BENCH_SIZE (UDP payload bytes, default 64), CAPTURE_BENCH_IMMEDIATE=1 (libpcap immediate mode),
 * CAPTURE_BENCH_SNAPLEN (default 65535).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_BUFFER_SIZE, DEFAULT_SNAPLEN, openLive } from './index.js';

/** Datagrams per second, tried in order. */
const RATES = [10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 300_000];
const STEP_MS = 2_000;
/** Time for the capture to drain the kernel ring after the sender stops. */
const DRAIN_MS = 300;
/** The measuring stays under this, so that with tsx and the sender starting up the run takes under 30 s. */
const BUDGET_MS = 20_000;
/** A step whose sender reached less than this share of its target rate means the sender is the bottleneck. */
const SENDER_SATURATED = 0.9;
const PORT = 45_064;

interface SendResult {
  sent: number;
  elapsedMs: number;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('capture bench skipped: live capture needs root (run it with sudo) or CAP_NET_RAW on node');
    return;
  }
  const started = Date.now();
  const bufferSize = process.env.CAPTURE_BENCH_BUFFER_MB
    ? Number(process.env.CAPTURE_BENCH_BUFFER_MB) * 1024 * 1024
    : DEFAULT_BUFFER_SIZE;
  const size = Number(process.env.CAPTURE_BENCH_SIZE ?? 64);
  const immediate = process.env.CAPTURE_BENCH_IMMEDIATE === '1';
  const snaplen = Number(process.env.CAPTURE_BENCH_SNAPLEN ?? DEFAULT_SNAPLEN);

  let frames = 0;
  let bytes = 0;
  const capture = openLive({
    iface: 'lo',
    filter: `udp and dst port ${PORT}`,
    bufferSize,
    immediate,
    snaplen,
    onFrame: (f) => {
      frames++;
      bytes += f.caplen;
    },
  });

  const sender: ChildProcess = fork(fileURLToPath(new URL('./bench-support/udp-sender.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const send = async (rate: number): Promise<SendResult> => {
    sender.send({ port: PORT, rate, durationMs: STEP_MS, size });
    const [result] = (await once(sender, 'message')) as [SendResult];
    return result;
  };

  console.log(
    `live capture on lo: UDP payload ${size} B, kernel buffer ${fmt(bufferSize / 1024 / 1024)} MiB, ` +
      `snaplen ${snaplen}, ${immediate ? 'immediate mode' : 'block mode'}, ${STEP_MS / 1000} s per rate, ` +
      `timestamps ${capture.timestampPrecision}`,
  );
  console.log('target/s   sent/s     captured/s  kernel drops  worst loop stall');
  let sustained = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  try {
    for (const rate of RATES) {
      if (Date.now() - started + STEP_MS + DRAIN_MS > BUDGET_MS) {
        console.log('(time budget reached)');
        break;
      }
      const before = capture.stats();
      const framesBefore = frames;
      loopDelay.reset();
      loopDelay.enable();
      const result = await send(rate);
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
      loopDelay.disable();
      const after = capture.stats();
      const captured = frames - framesBefore;
      const dropped = after.dropped - before.dropped;
      const seconds = result.elapsedMs / 1000;
      const sentRate = result.sent / seconds;
      console.log(
        `${fmt(rate).padStart(8)}  ${fmt(sentRate).padStart(8)}  ${fmt(captured / seconds).padStart(11)}  ` +
          `${fmt(dropped).padStart(12)}  ${(loopDelay.max / 1e6).toFixed(1).padStart(8)} ms`,
      );
      if (dropped === 0 && captured >= result.sent) sustained = Math.max(sustained, captured / seconds);
      if (sentRate < rate * SENDER_SATURATED) {
        console.log('(sender saturated: it cannot send faster on this machine)');
        break;
      }
      if (dropped > 0 && dropped > result.sent / 10) break;
    }
  } finally {
    sender.send('exit');
    capture.close();
  }
  const total = capture.stats();
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(
    `sustained capture rate without drops: ${fmt(sustained)} packets/s; ` +
      `captured ${fmt(frames)} frames (${fmt(bytes / 1024 / 1024)} MiB), kernel drops ${fmt(total.dropped)}; ` +
      `peak RSS ${rssMiB.toFixed(0)} MiB; ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

await main();
