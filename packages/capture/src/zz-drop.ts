import dgram from 'node:dgram';
import { openLive } from './index.js';
const r = dgram.createSocket('udp4'); await new Promise<void>((res) => r.bind(0, '127.0.0.1', res)); r.on('message', () => {});
const port = r.address().port;
const s = dgram.createSocket('udp4');
for (const bufferSize of [64 * 1024, 256 * 1024, 1 << 20]) {
  const cap = openLive({ iface: 'lo', filter: `udp and dst port ${port}`, bufferSize });
  let seen = 0; cap.onFrame(() => seen++);
  const d = Buffer.alloc(512, 0x41);
  let errs = 0;
  for (let i = 0; i < 3000; i++) s.send(d, port, '127.0.0.1', (e) => { if (e) errs++; });
  await new Promise<void>((res) => s.send(d, port, '127.0.0.1', () => res()));
  await new Promise((res) => setTimeout(res, 200));
  console.log(bufferSize, seen, errs, cap.stats()); cap.close();
}
r.close(); s.close();
