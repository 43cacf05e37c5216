/**
 * Outbound alert notification (`--alert-webhook URL`): new and returning alert groups are POSTed as JSON,
 * batched, at most `maxPerMinute` POSTs a minute, each retried with exponential back-off. It runs on the
 * main thread beside the HTTP server and never waits on the decoder; the decoder never waits on it.
 */
import type { Logger } from 'pino';
import type { AlertGroup } from './book.js';
import type { AlertNotice } from './alerts.js';
import { type Severity, type WebhookConfig, severityRank } from './config.js';

/** Alerts per POST at most (the rest wait for the next one). */
const MAX_BATCH = 100;
const MINUTE_MS = 60_000;

/** The JSON body of a webhook POST. */
export interface WebhookPayload {
  source: 'ca-sharkd';
  /** One line per alert, for chat webhooks (Slack, Mattermost, Teams) that show `text`. */
  text: string;
  alerts: (AlertGroup & { event: AlertNotice['event'] })[];
}

/** What a webhook has done, for `/metrics`. */
export interface WebhookStats {
  /** Alerts delivered (2xx). */
  sent: number;
  /** Alerts given up after their last attempt or a refusal (4xx other than 408 and 429). */
  failed: number;
  /** Alerts dropped because the queue was full. */
  dropped: number;
  /** POST attempts, retries included. */
  attempts: number;
  /** Alerts waiting. */
  queued: number;
}

/** Test hooks: a clock and a timer (default Date.now and setTimeout), and the HTTP client. */
export interface WebhookHooks {
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  maxBatch?: number;
}

const realDelay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    // Unreferenced: a pending retry never keeps the process alive at shutdown.
    setTimeout(resolve, ms).unref();
  });

type Outcome = { ok: true } | { ok: false; retryable: boolean; why: string; retryAfterMs: number };

/** POSTs alert notices to one URL, batched, rate-limited and retried. */
export class WebhookNotifier {
  private readonly queue: AlertNotice[] = [];
  /** When the POSTs of the last minute started (at most `maxPerMinute`). */
  private readonly starts: number[] = [];
  private running = false;
  private closed = false;
  private readonly now: () => number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly fetch: typeof fetch;
  private readonly maxBatch: number;
  private readonly least: number;
  private idle: Promise<void> = Promise.resolve();
  readonly counters: Omit<WebhookStats, 'queued'> = { sent: 0, failed: 0, dropped: 0, attempts: 0 };

  constructor(
    private readonly config: WebhookConfig,
    private readonly log: Logger,
    hooks: WebhookHooks = {},
  ) {
    this.now = hooks.now ?? Date.now;
    this.delay = hooks.delay ?? realDelay;
    this.fetch = hooks.fetch ?? fetch;
    this.maxBatch = hooks.maxBatch ?? MAX_BATCH;
    this.least = severityRank(config.minSeverity);
  }

  /** Queues a notice (at once; delivery happens in the background). Below `minSeverity` it is ignored. */
  notify(notice: AlertNotice): void {
    if (this.closed || severityRank(notice.alert.severity as Severity) > this.least) return;
    if (this.queue.length >= this.config.maxQueued) {
      this.queue.shift();
      this.counters.dropped += 1;
      if (this.counters.dropped === 1)
        this.log.warn(
          { url: this.config.url, queued: this.queue.length },
          'alert webhook queue full: oldest alerts dropped',
        );
    }
    this.queue.push(notice);
    if (!this.running) this.idle = this.pump();
  }

  stats(): WebhookStats {
    return { ...this.counters, queued: this.queue.length };
  }

  /** Resolves once nothing is queued or being sent (tests). */
  async settled(): Promise<void> {
    while (this.running) await this.idle;
  }

  /** Stops sending: queued alerts are dropped, a POST in flight finishes. */
  close(): void {
    this.closed = true;
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.waitForRate();
        const batch = this.queue.splice(0, this.maxBatch);
        await this.deliver(batch);
      }
    } finally {
      this.running = false;
    }
  }

  /** Waits until a POST may start without more than `maxPerMinute` in the last minute. */
  private async waitForRate(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0] <= now - MINUTE_MS) this.starts.shift();
      if (this.starts.length < this.config.maxPerMinute) return;
      await this.delay(this.starts[0] + MINUTE_MS - now);
    }
  }

  private async deliver(batch: AlertNotice[]): Promise<void> {
    const body = JSON.stringify(payload(batch));
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await this.waitForRate();
      this.starts.push(this.now());
      this.counters.attempts += 1;
      const outcome = await this.post(body);
      if (outcome.ok) {
        this.counters.sent += batch.length;
        return;
      }
      if (!outcome.retryable || attempt >= this.config.attempts || this.closed) {
        this.counters.failed += batch.length;
        this.log.error(
          { url: this.config.url, alerts: batch.length, attempts: attempt, why: outcome.why },
          'alert webhook failed: alerts not delivered',
        );
        return;
      }
      const backoffMs = Math.min(this.config.backoff * 2 ** (attempt - 1), this.config.maxBackoff) * 1000;
      const wait = Math.max(backoffMs, outcome.retryAfterMs);
      this.log.warn(
        { url: this.config.url, attempt, why: outcome.why, retryInMs: wait },
        'alert webhook failed; retrying',
      );
      await this.delay(wait);
    }
  }

  private async post(body: string): Promise<Outcome> {
    try {
      const res = await this.fetch(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ca-sharkd' },
        body,
        signal: AbortSignal.timeout(this.config.timeout * 1000),
      });
      // Read to the end so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retryAfter = Number(res.headers.get('retry-after'));
      return {
        ok: false,
        // Refusals (a wrong URL, a bad token) will not get better by asking again; overload and timeouts may.
        retryable: res.status >= 500 || res.status === 429 || res.status === 408,
        why: `HTTP ${res.status}`,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0,
      };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, retryable: true, why: e.cause?.code ?? e.name ?? e.message, retryAfterMs: 0 };
    }
  }
}

/** The body of one POST. */
export function payload(batch: readonly AlertNotice[]): WebhookPayload {
  const alerts = batch.map((n) => ({ event: n.event, ...n.alert }));
  const lines = alerts.map(
    (a) =>
      `[${a.severity}] ${a.kind}${a.subject === '' ? '' : ` ${a.subject}`}${a.event === 'reopened' ? ' (again)' : ''}: ${a.message}`,
  );
  return { source: 'ca-sharkd', text: `ca-sharkd: ${lines.join('\n')}`, alerts };
}
