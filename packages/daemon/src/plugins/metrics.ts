import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from '../model.js';
import type { HubClientInfo, HubStats } from '../hub.js';
import type { WebhookStats } from '../alerts/webhook.js';

/** Options of the metrics plugin. */
export interface MetricsOptions {
  model: DaemonModel;
  hubStats: () => HubStats;
  /** Connected clients, for the per-client series. */
  hubClients?: () => HubClientInfo[];
  /** The alert webhook's counters, when one is configured. */
  webhookStats?: () => WebhookStats;
}

/** Escapes a Prometheus label value. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders the daemon's counters in the Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(
  model: DaemonModel,
  hub: HubStats,
  clients: readonly HubClientInfo[] = [],
  webhook?: WebhookStats,
): string {
  const stats = model.stats();
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric('ca_sharkd_packets_total', 'counter', 'Frames handed to the decoder.', [['', stats.packets]]);
  metric('ca_sharkd_bytes_total', 'counter', 'Captured bytes handed to the decoder.', [['', stats.bytes]]);
  metric(
    'ca_sharkd_messages_total',
    'counter',
    'CA messages decoded, by command.',
    Object.entries(stats.perCommand)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => [`{command="${label(name)}"}`, n]),
  );
  metric('ca_sharkd_malformed_total', 'counter', 'Malformed CA records.', [['', stats.malformed]]);
  metric(
    'ca_sharkd_decoder_dropped_total',
    'counter',
    'Frames dropped before decoding because the decoder fell behind.',
    [['', stats.decoderDropped]],
  );
  metric('ca_sharkd_capture_received_total', 'counter', 'Packets received by libpcap (pcap_stats ps_recv).', [
    ['', stats.capture.received],
  ]);
  metric('ca_sharkd_capture_dropped_total', 'counter', 'Packets dropped by the kernel buffer (pcap_stats ps_drop).', [
    ['', stats.capture.dropped],
  ]);
  metric('ca_sharkd_capture_ifdropped_total', 'counter', 'Packets dropped by the interface (pcap_stats ps_ifdrop).', [
    ['', stats.capture.ifDropped],
  ]);
  metric('ca_sharkd_websocket_clients', 'gauge', 'Connected WebSocket clients.', [['', hub.clients]]);
  metric('ca_sharkd_websocket_matched_records_total', 'counter', "Records that matched WebSocket clients' filters.", [
    ['', hub.matched],
  ]);
  metric('ca_sharkd_websocket_sent_records_total', 'counter', 'Records sent to WebSocket clients.', [['', hub.sent]]);
  metric(
    'ca_sharkd_websocket_sampled_out_records_total',
    'counter',
    'Records matched for WebSocket clients but not sent: sampled out because a client could not take them all.',
    [['', hub.sampledOut]],
  );
  metric(
    'ca_sharkd_websocket_dropped_records_total',
    'counter',
    'Records not sent to WebSocket clients (the same as ca_sharkd_websocket_sampled_out_records_total).',
    [['', hub.dropped]],
  );
  metric(
    'ca_sharkd_websocket_client_records_total',
    'counter',
    'Records per connected WebSocket client, by outcome (matched, sent, sampled_out).',
    clients.flatMap((c): [string, number][] => [
      [`{client="${c.id}",outcome="matched"}`, c.matched],
      [`{client="${c.id}",outcome="sent"}`, c.sent],
      [`{client="${c.id}",outcome="sampled_out"}`, c.sampledOut],
    ]),
  );
  metric(
    'ca_sharkd_websocket_closed_over_budget_total',
    'counter',
    'WebSocket clients closed (1008) for leaving too many replies unread.',
    [['', hub.overBudget]],
  );
  metric('ca_sharkd_websocket_frames_total', 'counter', 'WebSocket frames sent.', [['', hub.frames]]);
  if (webhook !== undefined) {
    metric('ca_sharkd_alert_webhook_alerts_total', 'counter', 'Alerts handed to the webhook, by outcome.', [
      ['{outcome="sent"}', webhook.sent],
      ['{outcome="failed"}', webhook.failed],
      ['{outcome="dropped"}', webhook.dropped],
    ]);
    metric('ca_sharkd_alert_webhook_posts_total', 'counter', 'Webhook POST attempts, retries included.', [
      ['', webhook.attempts],
    ]);
    metric('ca_sharkd_alert_webhook_queued', 'gauge', 'Alerts waiting to be POSTed.', [['', webhook.queued]]);
  }
  metric('ca_sharkd_uptime_seconds', 'gauge', 'Seconds since the daemon started.', [['', model.health().uptime]]);
  return lines.join('\n') + '\n';
}

/** `/metrics` in Prometheus text format. */
export const metricsPlugin: FastifyPluginAsync<MetricsOptions> = async (
  app,
  { model, hubStats, hubClients, webhookStats },
) => {
  app.get('/metrics', async (request, reply) => {
    let perServer = '';
    try {
      perServer = (await model.metricsText?.()) ?? '';
    } catch (err) {
      // A busy or gone decoder costs the per-server series of this scrape, never the daemon's own.
      request.log.warn({ err: (err as Error).message }, 'per-server metrics unavailable for this scrape');
    }
    return reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(renderMetrics(model, hubStats(), hubClients?.() ?? [], webhookStats?.()) + perServer);
  });
};
