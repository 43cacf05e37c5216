#!/usr/bin/env node
/**
 * The `shark()` row of the realistic bench, run as its own process so its CPU time and peak RSS are its
 * own: iterates every record of a capture and prints `{"records":N,"malformed":M}`.
 *   node dist/iterate.js FILE [SERVER_PORT REPEATER_PORT]
 */
import { shark } from '@ca-shark/decoder';

const [file, serverPort, repeaterPort] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: iterate.js FILE [SERVER_PORT REPEATER_PORT]\n');
  process.exit(2);
}
let records = 0;
let malformed = 0;
const options = serverPort === undefined ? {} : { serverPort: Number(serverPort), repeaterPort: Number(repeaterPort) };
for await (const record of shark(file, options)) {
  records += 1;
  if (record.command.name === 'Malformed') malformed += 1;
}
process.stdout.write(`${JSON.stringify({ records, malformed })}\n`);
