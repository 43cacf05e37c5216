/**
 * Benchmark traffic: UDP datagrams of CA SEARCH requests to 127.0.0.1:PORT at a steady rate, from a process
 * of its own so it does not share the daemon's event loop. A socket bound on PORT swallows them (no ICMP).
 * Usage: blaster.ts PORT DATAGRAMS_PER_SECOND SECONDS SEARCHES_PER_DATAGRAM
 * Prints {"sent": N, "messages": M, "seconds": S} on stdout.
 */
import { createSocket } from 'node:dgram';
import { build, concatBytes } from '@ca-shark/protocol';

const [port, rate, seconds, perDatagram] = process.argv.slice(2).map(Number);
const sink = createSocket({ type: 'udp4', reuseAddr: true });
sink.on('message', () => undefined);
sink.bind(port, '127.0.0.1');
const out = createSocket('udp4');

/** 64 different datagrams, cycled (cids and names vary, state stays small). */
const datagrams: Uint8Array[] = [];
for (let d = 0; d < 64; d++) {
  const parts = [build.versionRequest({ sequence: d })];
  for (let i = 0; i < perDatagram; i++)
    parts.push(build.searchRequest({ name: `bench:pv${(d * perDatagram + i) % 1000}`, cid: d * perDatagram + i }));
  datagrams.push(concatBytes(parts));
}

let sent = 0;
const start = performance.now();
const tickMs = 1;
const timer = setInterval(() => {
  const elapsed = (performance.now() - start) / 1000;
  if (elapsed >= seconds) {
    clearInterval(timer);
    // Let the last datagrams leave before closing.
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ sent, messages: sent * (perDatagram + 1), seconds: elapsed }) + '\n');
      out.close();
      sink.close();
    }, 50);
    return;
  }
  const due = Math.floor(elapsed * rate);
  while (sent < due) {
    out.send(datagrams[sent % datagrams.length], port, '127.0.0.1');
    sent++;
  }
}, tickMs);
