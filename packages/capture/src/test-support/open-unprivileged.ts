/**
 * Child process for the permission test: run without root or capabilities, tries to open a live capture and
 * prints the outcome as one JSON line.
 */
import { CaptureError, openLive } from '../index.js';

const iface = process.argv[2] ?? 'lo';
try {
  const capture = openLive({ iface });
  capture.close();
  console.log(JSON.stringify({ opened: true }));
} catch (err) {
  if (err instanceof CaptureError) {
    console.log(JSON.stringify({ opened: false, name: err.name, code: err.code, message: err.message }));
  } else {
    console.log(JSON.stringify({ opened: false, name: 'unexpected', message: String(err) }));
  }
}
