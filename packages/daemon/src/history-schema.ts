/** The declared shape of a `GET /api/history` answer ({@link HistoryAnswer} plus the input's state). */
const numbers = { type: 'array', items: { type: 'number' } } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

/** Schema of the `GET /api/history` answer (docs/websocket.md#history). */
export const historySchema = {
  type: 'object',
  required: ['eof', 'endedAt', 'messages', 'since', 'until', 'step', 'newest', 'traffic', 'latency', 'omittedSeries'],
  properties: {
    eof: { type: 'boolean' },
    endedAt: nullableNumber,
    messages: { type: 'number' },
    since: { type: 'number' },
    until: { type: 'number' },
    step: { type: 'number' },
    newest: nullableNumber,
    traffic: {
      type: 'object',
      required: ['t', 'dt', 'messages', 'bytes', 'searches', 'errors'],
      properties: { t: numbers, dt: numbers, messages: numbers, bytes: numbers, searches: numbers, errors: numbers },
    },
    latency: {
      type: 'array',
      items: {
        type: 'object',
        required: ['server', 'kind', 't', 'dt', 'count', 'sum', 'max'],
        properties: {
          server: { type: 'string' },
          kind: { type: 'string' },
          t: numbers,
          dt: numbers,
          count: numbers,
          sum: numbers,
          max: numbers,
        },
      },
    },
    omittedSeries: { type: 'number' },
  },
} as const;
