import type { FastifyPluginAsync } from 'fastify';

/**
 * Marks a plugin as not encapsulated, so its hooks and decorations apply to the whole app (what the
 * fastify-plugin helper does, without the extra dependency).
 */
export function global<T extends FastifyPluginAsync<O>, O extends object>(plugin: T): T {
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
