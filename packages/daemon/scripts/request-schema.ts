/**
 * Generates `packages/daemon/schema/requests.schema.json` from `src/requests.ts`: one definition per
 * exported type (the WebSocket messages, the query strings and path parameters). The daemon validates
 * requests with it (src/request-validation.ts), so the accepted input is what the types say.
 *
 *   pnpm --filter @ca-shark/daemon run schema      # rewrite the committed schema
 *
 * `requests-schema.test.ts` fails when the committed file and the types drift apart.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator, type Config } from 'ts-json-schema-generator';

const ROOT = new URL('../../../', import.meta.url);

/** Where the generated schema is committed. */
export const REQUESTS_SCHEMA_FILE = fileURLToPath(new URL('packages/daemon/schema/requests.schema.json', ROOT));

const CONFIG: Config = {
  path: fileURLToPath(new URL('packages/daemon/src/requests.ts', ROOT)),
  tsconfig: fileURLToPath(new URL('tsconfig.test.json', ROOT)),
  type: '*',
  expose: 'export',
  topRef: true,
  jsDoc: 'extended',
  sortProps: false,
  strictTuples: false,
  skipTypeCheck: true,
  additionalProperties: false,
  discriminatorType: 'open-api',
};

/** The schema as committed: the generated definitions under the daemon's id. */
export function generateRequestsSchema(): Record<string, unknown> {
  const { $schema, ...rest } = createGenerator(CONFIG).createSchema(CONFIG.type) as Record<string, unknown>;
  return {
    $schema,
    $id: 'https://github.com/ca-shark/ca-shark/packages/daemon/schema/requests.schema.json',
    title: 'ca-sharkd requests',
    description:
      'What clients send ca-sharkd: /ws messages, query strings and path parameters. Generated from ' +
      'packages/daemon/src/requests.ts by packages/daemon/scripts/request-schema.ts: do not edit by hand.',
    ...rest,
  };
}

/** The file text: two-space JSON and a final newline. */
export function requestsSchemaText(): string {
  return JSON.stringify(generateRequestsSchema(), null, 2) + '\n';
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(REQUESTS_SCHEMA_FILE, requestsSchemaText());
  console.log(`wrote ${REQUESTS_SCHEMA_FILE}`);
}
