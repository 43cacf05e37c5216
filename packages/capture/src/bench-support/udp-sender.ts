/**
 * Child process of the capture benchmark: sends UDP datagrams to 127.0.0.1 at a requested rate. Commands come
 * over IPC as `{ port, rate, durationMs, size }`; the reply is `{ sent, elapsedMs }`. Only loopback.
 */
import dgram from 'node:dgram';

interface SendCommand {
  port: number;
  /** Datagrams per second. */
  rate: number;
  durationMs: number;
  /** UDP payload bytes. */
  size: number;
}

/** Datagrams sent in one turn of the loop at most, so IPC and timers still run. */
const MAX_BURST = 512;
const LOOPBACK = '127.0.0.1';

const socket = dgram.createSocket('udp4');
// Nobody listens on the port: the kernel answers with (rate-limited) ICMP port-unreachable, which the capture
// filter excludes. The socket stays unconnected on purpose: a connected one would turn that ICMP into
// ECONNREFUSED and fail the next send.
socket.on('error', () => {});

function run(cmd: SendCommand): Promise<{ sent: number; elapsedMs: number }> {
  const payload = Buffer.alloc(cmd.size, 0x43);
  const start = process.hrtime.bigint();
  const endNs = BigInt(cmd.durationMs) * 1_000_000n;
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const elapsedNs = process.hrtime.bigint() - start;
      if (elapsedNs >= endNs) {
        resolve({ sent, elapsedMs: Number(elapsedNs) / 1e6 });
        return;
      }
      const due = Math.floor((Number(elapsedNs) / 1e9) * cmd.rate) - sent;
      for (let i = 0; i < Math.min(due, MAX_BURST); i++) socket.send(payload, cmd.port, LOOPBACK);
      sent += Math.max(0, Math.min(due, MAX_BURST));
      setImmediate(tick);
    };
    tick();
  });
}

process.on('message', (msg: SendCommand | 'exit') => {
  if (msg === 'exit') {
    socket.close();
    process.disconnect();
    return;
  }
  void run(msg).then((result) => process.send?.(result));
});
