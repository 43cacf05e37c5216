/**
 * What clients send the daemon: HTTP query strings and path parameters, and the messages a client sends
 * over `/ws`. `schema/requests.schema.json` is generated from these types (scripts/request-schema.ts) and
 * validates every request (request-validation.ts); `requests-schema.test.ts` fails when they drift apart.
 */

/**
 * The subscription a client sends: every given criterion must hold; `{}` means everything. The number and
 * length of values are capped by the shared filter compiler (`@ca-shark/analysis/filter`), whose errors
 * name the cap, as the page and the command line get them.
 */
export interface SubscriptionFilter {
  /** PV name globs (`*`, `?`, `[abc]`, `{a,b}`). */
  pv?: string[];
  /** Host addresses or CIDR ranges; a record matches when its source or destination is one of them. */
  host?: string[];
  /** Command names or families (`search`, `monitor`, `ReadNotifyResponse`, ...). */
  command?: string[];
  /** Only failed responses, error replies and malformed messages. */
  errors?: boolean;
  /** Sensor name globs (a central daemon's records carry their sensor). */
  sensor?: string[];
}

/** `{type:'subscribe'}`: replace this client's filter (`filter` absent or null: everything). */
export interface SubscribeMessage {
  type: 'subscribe';
  filter?: SubscriptionFilter | null;
  /**
   * Send the held records matching the filter since this capture time (Unix seconds; 0: everything held)
   * before the live ones.
   * @minimum 0
   */
  since?: number;
}

/** `{type:'pause'}`: stop sending records to this client (snapshots go on). */
export interface PauseMessage {
  type: 'pause';
}

/** `{type:'resume'}`: send records again. */
export interface ResumeMessage {
  type: 'resume';
}

/** `{type:'rate'}`: this client's record budget per second (clamped to the daemon's range). */
export interface RateMessage {
  type: 'rate';
  recordsPerSecond: number;
}

/** `{type:'record'}`: the full record of a Live row. */
export interface RecordRequest {
  type: 'record';
  /**
   * @asType integer
   * @minimum 1
   */
  id: number;
}

/**
 * Every message a client may send over `/ws`, told apart by `type`.
 * @discriminator type
 */
export type ClientMessage = SubscribeMessage | PauseMessage | ResumeMessage | RateMessage | RecordRequest;

/** `GET /api/report` query string. */
export interface ReportQuery {
  /** Comma-separated section names; absent or empty for every section. */
  section?: string;
  /** Every row the analyses keep instead of the first 100 per table. */
  full?: '0' | '1' | 'true' | 'false';
}

/** `GET /api/record/:id` path parameters. */
export interface RecordParams {
  /**
   * @asType integer
   * @minimum 1
   */
  id: number;
}
