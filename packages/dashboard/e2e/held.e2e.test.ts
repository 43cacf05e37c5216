/**
 * What the page says the daemon holds and let go (issue 11), against the real daemon reading a capture on
 * its stdin with a small packet ring and history: the "Download pcapng" link's tooltip and label say from
 * when its packets go back and that older ones were let go, the Live notice says the same of the held
 * records, and the status bar flags a spool kept in memory (a tmpfs; /dev/shm is one on Linux). A fake
 * daemon stands for one whose spool stopped (a full disk cannot be made to order here).
 */
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { StatsJSON } from '../src/lib/contract.js';
import { useFakeDaemonPage } from './fixture.js';
import { DaemonProcess, daemonAvailable } from './daemon-process.js';
import { CHROMIUM_PATH, PACKAGE_DIR, artefact, buildDashboard, launchBrowser, openTestPage } from './browser.js';

const REPO = resolve(PACKAGE_DIR, '../..');
const CAPTURE = resolve(REPO, 'packages/packet/fixtures/catest.pcap');
const canRun = existsSync(CHROMIUM_PATH) && daemonAvailable;
/** statfs's type of a tmpfs (Linux's TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;
/** A tmpfs to spool in, when the system has one where expected. */
const SHM = '/dev/shm';
const shmIsTmpfs = ((): boolean => {
  try {
    return statfsSync(SHM).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
})();
/** The packet ring's bound: catest.pcap's packets take about 60 kB, so most are let go. */
const RING_BYTES = 20_000;

let daemon: DaemonProcess | undefined;
let base = '';
let browser: Browser;
let page: Page;
let spoolDir = '';
let madeDir = false;
const pageErrors: string[] = [];

async function stats(): Promise<StatsJSON> {
  return (await (await fetch(`${base}api/stats`)).json()) as StatsJSON;
}

describe.skipIf(!canRun)(
  'what the page says the daemon holds (ca-sharkd --stdin, small ring)',
  { timeout: 120_000 },
  () => {
    beforeAll(async () => {
      const dist = await buildDashboard('test-results/dist-held');
      madeDir = !shmIsTmpfs;
      spoolDir = shmIsTmpfs ? SHM : mkdtempSync(join(tmpdir(), 'ca-sharkd-held-e2e-'));
      const input = openSync(CAPTURE, 'r');
      daemon = await DaemonProcess.start(
        ['--stdin', '--packet-ring', String(RING_BYTES), '--history', '50', '--spool-dir', spoolDir],
        dist,
        { stdin: input },
      );
      closeSync(input);
      base = daemon.url;
      await daemon.waitForHealth(60_000, (health) => health.eof === true);
      browser = await launchBrowser();
      page = await openTestPage(browser, pageErrors);
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await daemon?.stop();
      if (madeDir) rmSync(spoolDir, { recursive: true, force: true });
    });

    it("says in the pcapng link's tooltip and label from when its packets go back and that older ones were let go", async () => {
      const s = await stats();
      const ring = s.packetRing;
      if (ring === undefined) throw new Error('no packetRing in /api/stats');
      expect(ring.maxBytes).toBe(RING_BYTES);
      expect(ring.droppedMessages).toBeGreaterThan(0);
      expect(ring.messages + ring.droppedMessages).toBe(s.messages);

      await page.goto(`${base}#/live`);
      const link = page.getByTestId('download-pcap');
      await expect.poll(() => link.getAttribute('data-let-go'), { timeout: 15_000 }).toBe(String(ring.droppedMessages));
      const clock = new Date((ring.oldestTime as number) * 1000).toISOString().slice(11, 19);
      const title = await link.getAttribute('title');
      expect(title).toMatch(
        new RegExp(
          `^Download the packets of the messages this filter keeps \\(pcapng, for Wireshark\\)\\. ` +
            `The daemon holds packets from ${clock} UTC, the last [0-9.]+ (ms|s|min [0-9]+ s) of capture ` +
            `\\(${ring.messages} messages, [0-9.]+ KiB of 19\\.5 KiB\\); ${ring.droppedMessages} older messages let go ` +
            `\\(the ring keeps 19\\.5 KiB, --packet-ring\\)$`,
        ),
      );
      expect(await page.getByTestId('pcap-reach').textContent()).toMatch(/^· last [0-9.]+ (ms|s|min [0-9]+ s)$/);

      // The Live table's notice: the history's bound (50 records) let the older ones go.
      const history = s.history;
      expect(history).toMatchObject({ records: 50, maxRecords: 50, dropped: s.messages - 50 });
      const held = new Date((history?.oldestTime as number) * 1000).toISOString().slice(11, 19);
      await expect
        .poll(() => page.getByTestId('history-notice').textContent(), { timeout: 10_000 })
        .toContain(`the daemon holds 50 records from ${held} UTC; ${s.messages - 50} older ones let go (--history)`);
      await page.screenshot({ path: artefact('held-live.png') });
    });

    it('flags a spool kept in memory (on a tmpfs) in the status bar, and only then', async () => {
      const s = await stats();
      expect(s.spool).toMatchObject({ dir: spoolDir, bytes: RING_BYTES, tmpfs: shmIsTmpfs, stopped: null });
      await page.goto(`${base}#/live`);
      const flag = page.getByTestId('spool-flag');
      if (shmIsTmpfs) {
        await flag.waitFor({ timeout: 15_000 });
        expect(await flag.textContent()).toBe('spool in memory');
        expect(await flag.getAttribute('data-level')).toBe('warn');
        expect(await flag.getAttribute('title')).toBe(
          `stdin spool in ${SHM} is on a tmpfs, which keeps it in memory (up to 19.5 KiB): give --spool-dir a directory on disk`,
        );
      } else {
        await page.getByTestId('download-pcap').waitFor();
        expect(await flag.count()).toBe(0);
      }
      expect(pageErrors).toEqual([]);
    });
  },
);

describe.skipIf(!existsSync(CHROMIUM_PATH))(
  'the status bar flags a stopped spool (fake daemon)',
  { timeout: 60_000 },
  () => {
    const reason = 'ENOSPC: no space left on device, write';
    const fx = useFakeDaemonPage('test-results/dist-held-fake', {
      rate: 50,
      stats: {
        spool: {
          dir: '/var/spool/ca',
          bytes: 256 * 1024 * 1024,
          bytesWritten: 1024 * 1024,
          tmpfs: false,
          stopped: reason,
        },
      },
    });

    it('in red, with the reason and what it means in its tooltip', async () => {
      await fx.page.goto(`${fx.fake.url}#/live`);
      const flag = fx.page.getByTestId('spool-flag');
      await flag.waitFor({ timeout: 15_000 });
      expect(await flag.textContent()).toBe('spool stopped');
      expect(await flag.getAttribute('data-level')).toBe('error');
      expect(await flag.evaluate((el) => el.classList.contains('error'))).toBe(true);
      expect(await flag.getAttribute('title')).toBe(
        `stdin spool in /var/spool/ca stopped (${reason}): the packets of later messages are kept in the daemon's ` +
          'memory, up to --packet-ring (256 MiB); 1 MiB were spooled',
      );
      // A daemon that says nothing of its packet ring keeps the plain tooltip and label.
      const link = fx.page.getByTestId('download-pcap');
      expect(await link.getAttribute('title')).toBe(
        'Download the packets of the messages this filter keeps (pcapng, for Wireshark)',
      );
      expect(await fx.page.getByTestId('pcap-reach').count()).toBe(0);
      await fx.page.screenshot({ path: artefact('held-spool-stopped.png') });
      expect(fx.pageErrors).toEqual([]);
    });
  },
);

describe.skipIf(!existsSync(CHROMIUM_PATH))(
  'the status bar flags a spool that could not be made (fake daemon)',
  { timeout: 60_000 },
  () => {
    const reason = "ENOENT: no such file or directory, open '/nonexistent/.ca-sharkd-spool-1-ab'";
    const fx = useFakeDaemonPage('test-results/dist-held-unmade', {
      rate: 50,
      stats: {
        spool: {
          dir: '/nonexistent',
          bytes: 256 * 1024 * 1024,
          bytesWritten: 0,
          tmpfs: false,
          stopped: reason,
          unmade: true,
        },
      },
    });

    it('in red, with the reason and what it means in its tooltip', async () => {
      await fx.page.goto(`${fx.fake.url}#/live`);
      const flag = fx.page.getByTestId('spool-flag');
      await flag.waitFor({ timeout: 15_000 });
      expect(await flag.textContent()).toBe('no spool');
      expect(await flag.getAttribute('data-level')).toBe('error');
      expect(await flag.evaluate((el) => el.classList.contains('error'))).toBe(true);
      expect(await flag.getAttribute('title')).toBe(
        `stdin spool could not be made in /nonexistent (${reason}): the packets are kept in the daemon's memory, ` +
          'up to --packet-ring (256 MiB)',
      );
      expect(fx.pageErrors).toEqual([]);
    });
  },
);
