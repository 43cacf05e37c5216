/**
 * Headless Chromium as every tool of the workspace that drives the dashboard launches it (the load bench,
 * the dashboard's browser tests, screenshots and render bench): Debian's build, never a downloaded one,
 * with one set of flags (`@ca-shark/bench/chromium`).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags that run Chromium headless on this platform (no sandbox as root in a container, no GPU), without
 * network traffic of its own (updates, sync, QUIC probes) to disturb a measurement or a test.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why Chromium cannot be launched here, or undefined. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} is missing (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** Launches headless Chromium with {@link CHROMIUM_FLAGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS] });
}
