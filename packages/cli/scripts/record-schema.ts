/**
 * Generates `packages/cli/schema/record.schema.json`, the JSON Schema of `ca-shark --json` records and the
 * daemon's WebSocket records, from the TypeScript contract: `CaRecordJSON` (@ca-shark/decoder) and the
 * command union it holds (`CaCommand`, @ca-shark/protocol). Field docs become `description`s; JSDoc tags
 * (`@asType integer`, `@minimum`, `@pattern`, `@discriminator`) add what the types cannot say.
 *
 *   pnpm --filter @ca-shark/cli run schema          # rewrite the committed schema
 *
 * `record-schema.test.ts` fails when the committed file and the types drift apart.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator, type Config } from 'ts-json-schema-generator';

const ROOT = new URL('../../../', import.meta.url);

/** Where the generated schema is committed. */
export const RECORD_SCHEMA_FILE = fileURLToPath(new URL('packages/cli/schema/record.schema.json', ROOT));

const CONFIG: Config = {
  path: fileURLToPath(new URL('packages/decoder/src/record.ts', ROOT)),
  // The test configuration resolves the workspace packages to their TypeScript sources: no build needed.
  tsconfig: fileURLToPath(new URL('tsconfig.test.json', ROOT)),
  type: 'CaRecordJSON',
  expose: 'export',
  topRef: false,
  jsDoc: 'extended',
  sortProps: false,
  strictTuples: false,
  skipTypeCheck: true,
  additionalProperties: false,
  discriminatorType: 'json-schema',
};

/** TSDoc's `{@link Name}` as plain `Name` in a description. */
function plainDescriptions(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'description' && typeof v === 'string') obj[k] = v.replace(/\s*\{@link\s+([^}\s]+)\s*\}/g, ' $1');
    else plainDescriptions(v);
  }
}

/** The record schema, as it is committed: generated, then given its id, title and description. */
export function generateRecordSchema(): Record<string, unknown> {
  const generated = createGenerator(CONFIG).createSchema(CONFIG.type) as Record<string, unknown>;
  plainDescriptions(generated);
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'https://github.com/ca-shark/ca-shark/packages/cli/schema/record.schema.json',
    title: 'ca-shark record',
    ...rest,
    description:
      'One Channel Access message (or one malformed run of bytes) as `ca-shark --json` prints it, one object ' +
      'per line. Generated from the TypeScript types (CaRecordJSON, CaCommand) by packages/cli/scripts/' +
      'record-schema.ts: do not edit by hand. Field by field in docs/json.md.',
  };
}

/** The file text: two-space JSON and a final newline. */
export function recordSchemaText(): string {
  return JSON.stringify(generateRecordSchema(), null, 2) + '\n';
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(RECORD_SCHEMA_FILE, recordSchemaText());
  console.log(`wrote ${RECORD_SCHEMA_FILE}`);
}
