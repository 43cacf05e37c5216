/**
 * Writes a large capture of steady CA traffic straight to a file (tests and the ingest benchmark): a few
 * circuits, each monitoring a 100-element DOUBLE waveform and scalar TIME_DOUBLE PVs, with UDP searches in
 * between. Far more bytes than the daemon keeps in flight, so a reader without backpressure would drop.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';

const CIRCUITS = 8;
const SCALARS = 4;
const WAVEFORM_ELEMENTS = 100;
const WAVEFORM_SUBSCRIPTION = 0;

/** What {@link writeBulkCapture} wrote. */
export interface BulkCapture {
  frames: number;
  bytes: number;
}

/** Writes at least `targetBytes` of capture to `path` and returns its size; deterministic for a given size. */
export function writeBulkCapture(path: string, targetBytes: number): BulkCapture {
  const fd = openSync(path, 'w');
  const w = new PcapWriter();
  let bytes = 0;
  const flush = (): void => {
    for (const part of w.drain()) {
      writeSync(fd, part);
      bytes += part.length;
    }
  };
  try {
    let t = 1_700_000_000;
    const conns: TcpConversation[] = [];
    for (let c = 0; c < CIRCUITS; c++) {
      const conn = new TcpConversation(w, `10.1.0.${c + 1}`, 50000 + c, '10.2.0.1', 5064).open((t += 1e-4));
      const open = [build.versionRequest({ version: 13 })];
      const reply = [build.versionResponse({ version: 13 })];
      for (let k = 0; k <= SCALARS; k++) {
        const count = k === WAVEFORM_SUBSCRIPTION ? WAVEFORM_ELEMENTS : 1;
        open.push(build.createChanRequest({ name: `BULK${c}:PV${k}`, cid: k }));
        reply.push(build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: count, cid: k, sid: 100 + k }));
        open.push(
          build.eventAddRequest({
            data_type: DbrType.TIME_DOUBLE,
            data_count: count,
            sid: 100 + k,
            subscriptionid: k,
            mask: 5,
          }),
        );
      }
      conn.send((t += 1e-4), true, concatBytes(open)).send((t += 1e-4), false, concatBytes(reply));
      conns.push(conn);
    }
    const wave = Array.from({ length: WAVEFORM_ELEMENTS }, (_, i) => i * 0.5);
    let round = 0;
    while (bytes < targetBytes) {
      round += 1;
      w.udp(
        (t += 1e-5),
        '10.1.9.9',
        45555,
        '10.255.255.255',
        5064,
        concatBytes([
          build.versionRequest({ sequence: round }),
          build.searchRequest({ name: `MISSING:${round % 50}`, cid: round % 50 }),
        ]),
      );
      for (const conn of conns) {
        wave[round % WAVEFORM_ELEMENTS] = round;
        const updates = [
          build.eventAddResponse({
            data_type: DbrType.TIME_DOUBLE,
            data: wave,
            subscriptionid: WAVEFORM_SUBSCRIPTION,
            metadata: { timestamp: t },
          }),
        ];
        for (let k = 1; k <= SCALARS; k++) {
          updates.push(
            build.eventAddResponse({
              data_type: DbrType.TIME_DOUBLE,
              data: [round + k],
              subscriptionid: k,
              metadata: { timestamp: t },
            }),
          );
        }
        conn.send((t += 1e-5), false, concatBytes(updates));
      }
      if (round % 64 === 0) flush();
    }
    flush();
    return { frames: w.frames, bytes };
  } finally {
    closeSync(fd);
  }
}
