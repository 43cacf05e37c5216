// node run.mjs ROOT FILE split|shark [digest]
import fs from 'node:fs';
import { createHash } from 'node:crypto';
const [root, file, mode, digest] = process.argv.slice(2);
function mainCpu() { const s = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'); const r = s.slice(s.lastIndexOf(')') + 2).split(' '); return (+r[11] + +r[12]) * 10; }
const w0 = performance.now();
let records;
if (mode === 'split') {
  const { load, splitShark } = await import('./main.mjs');
  const mods = await load(root);
  records = splitShark(root, mods, file);
} else {
  const { shark } = await import(`${root}/packages/decoder/dist/index.js`);
  records = shark(file);
}
const h = digest ? createHash('md5') : null;
const rep = (k, v) => (typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? Array.from(v) : v);
let n = 0;
for (let r = await records.next(); !r.done; r = await records.next())
  for (let record = r.value; record !== undefined; record = records.nextReady()) { n++; if (h) h.update(JSON.stringify(record, rep)); }
await new Promise((r) => setTimeout(r, 20));
const c = process.cpuUsage();
{ const s = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8"); const r = s.slice(s.lastIndexOf(")") + 2).split(" "); console.log("main utime", +r[11] * 10, "stime", +r[12] * 10, "minflt", r[7]); }
console.log(`${mode} n=${n} wallFromImport=${(performance.now() - w0).toFixed(0)} main=${mainCpu()} proc=${((c.user + c.system) / 1000).toFixed(0)} rss=${(process.resourceUsage().maxRSS/1024).toFixed(0)}MB wait=${Math.round(globalThis.__wait ?? 0)} early=${globalThis.__slots ?? ''} worker=${globalThis.__workerCpu} ${h ? h.digest('hex') : ''}`);
for (const t of fs.readdirSync("/proc/self/task")) { const s = fs.readFileSync(`/proc/self/task/${t}/stat`, "utf8"); const r = s.slice(s.lastIndexOf(")") + 2).split(" "); const v = (+r[11] + +r[12]) * 10; if (v > 20) console.log("  thread", t, s.slice(s.indexOf("(")+1, s.lastIndexOf(")")), v); }
process.exit(0);
