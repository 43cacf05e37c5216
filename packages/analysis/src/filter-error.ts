/** Thrown for an unusable filter value (glob, address, command name, or a value over a limit); the message names the value. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

/** Longest part of a client-supplied value quoted back in an error message. */
const QUOTE_LIMIT = 40;

/**
 * A value quoted for an error message, cut to a short prefix: filter values come from any WebSocket client,
 * and an error reply must not echo a long input back.
 */
export function quoteValue(value: string): string {
  return JSON.stringify(value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value);
}
