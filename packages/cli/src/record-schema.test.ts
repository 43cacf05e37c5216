/**
 * The record contract end to end: the committed JSON Schema is the one generated from the TypeScript types,
 * real decoder output on every fixture capture validates against it, and so does every command class and
 * every DBR type built by the encoder (with floats that JSON turns into null).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recordToJSON } from '@ca-shark/analysis';
import { shark } from '@ca-shark/decoder';
import {
  build,
  decodeCommand,
  deframeDatagram,
  DbrType,
  dbrElementKind,
  MAX_DBR_TYPE,
  dbrTypeName,
  type CaFrame,
  type DecodedCommand,
  type DecodeCommandOptions,
  type Role,
} from '@ca-shark/protocol';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { generateRecordSchema, RECORD_SCHEMA_FILE } from '../scripts/record-schema.js';

const committed = JSON.parse(readFileSync(RECORD_SCHEMA_FILE, 'utf8')) as { $id: string } & Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
const validateRecord = ajv.compile(committed);
const validateCommand = ajv.getSchema(`${committed.$id}#/definitions/CaCommandJSON`) as ValidateFunction;

function check(validate: ValidateFunction, value: unknown, where: string): void {
  if (!validate(value)) {
    throw new Error(`${where}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(value).slice(0, 600)}`);
  }
}

/** The captures the tests ship: the packet layer's (from caproto and ca-shark) and the decoder's. */
const CAPTURE_DIRS = ['../../packet/fixtures/', '../../decoder/fixtures/'].map((d) =>
  fileURLToPath(new URL(d, import.meta.url)),
);
const CAPTURES = CAPTURE_DIRS.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng|cap)$/.test(f))
    .map((f) => dir + f),
);

describe('record.schema.json', () => {
  it('is the schema generated from the types (pnpm --filter @ca-shark/cli run schema regenerates it)', () => {
    expect(committed).toEqual(generateRecordSchema());
  }, 120_000);

  it('accepts every record the decoder makes from every fixture capture', async () => {
    const commands = new Set<string>();
    const dbrTypes = new Set<string>();
    let records = 0;
    for (const file of CAPTURES) {
      // With keepBytes: `raw` is in the JSON form too (`ca-shark --raw`).
      for await (const r of shark(file, { keepBytes: true })) {
        const json: unknown = JSON.parse(recordToJSON(r));
        check(validateRecord, json, `${file} frame ${r.frame}`);
        records++;
        commands.add(r.command.name);
        if ('data_type_name' in r.command && 'data' in r.command) dbrTypes.add(r.command.data_type_name);
      }
    }
    expect(CAPTURES.length).toBeGreaterThanOrEqual(8);
    expect(records).toBeGreaterThanOrEqual(409);
    // Every command and DBR type the fixtures contain was among them: a lost capture, or a decoder that
    // stops naming a command, shows here. (The classes and types no capture has are checked below.)
    expect([...commands].sort()).toEqual([
      'AccessRightsResponse',
      'Beacon',
      'ClearChannelRequest',
      'ClearChannelResponse',
      'ClientNameRequest',
      'CreateChanRequest',
      'CreateChanResponse',
      'EventAddRequest',
      'EventAddResponse',
      'EventCancelRequest',
      'EventCancelResponse',
      'HostNameRequest',
      'ReadNotifyRequest',
      'ReadNotifyResponse',
      'SearchRequest',
      'SearchResponse',
      'ServerDisconnResponse',
      'VersionRequest',
      'VersionResponse',
      'WriteNotifyRequest',
      'WriteNotifyResponse',
      'WriteRequest',
    ]);
    expect([...dbrTypes].sort()).toEqual([
      'CTRL_ENUM',
      'DOUBLE',
      'STRING',
      'TIME_DOUBLE',
      'TIME_ENUM',
      'TIME_LONG',
      'TIME_STRING',
    ]);
  }, 300_000);
});

/** Decodes one built message as its only frame. */
function decodeBuilt(
  bytes: Uint8Array,
  role: Role,
  options?: DecodeCommandOptions,
  header?: Partial<CaFrame>,
): DecodedCommand {
  let frame: CaFrame | undefined;
  deframeDatagram(
    bytes,
    (f) => {
      frame ??= { ...f, payload: f.payload.slice(), bytes: f.bytes.slice() };
    },
    (fault) => {
      throw new Error(fault.message);
    },
  );
  if (frame === undefined) throw new Error('no frame');
  return decodeCommand({ ...frame, ...header }, role, options);
}

const TIME = { status: 3, severity: 1, secondsPastEpoch: 1_000_000_000, nanoseconds: 5 };
const LIMITS = {
  upperDisplayLimit: NaN,
  lowerDisplayLimit: -Infinity,
  upperAlarmLimit: 9,
  upperWarningLimit: 8,
  lowerWarningLimit: 1,
  lowerAlarmLimit: 0,
  upperControlLimit: 10,
  lowerControlLimit: 0,
};

/**
 * One message per command class: the keys are the union's names, so a class added to `DecodedCommand`
 * without a row here does not compile.
 */
const CLASSES: { [N in DecodedCommand['name']]: () => DecodedCommand } = {
  VersionRequest: () => decodeBuilt(build.versionRequest({ priority: 1 }), 'request'),
  VersionResponse: () => decodeBuilt(build.versionResponse({ sequence: 7 }), 'response', { udp: true }),
  EventAddRequest: () =>
    decodeBuilt(
      build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, sid: 1, subscriptionid: 2, mask: 5 }),
      'request',
    ),
  EventAddResponse: () =>
    decodeBuilt(
      build.eventAddResponse({
        data_type: DbrType.TIME_DOUBLE,
        data: [1.5, NaN],
        metadata: TIME,
        subscriptionid: 2,
      }),
      'response',
    ),
  EventCancelRequest: () =>
    decodeBuilt(build.eventCancelRequest({ data_type: DbrType.DOUBLE, sid: 1, subscriptionid: 2 }), 'request'),
  EventCancelResponse: () =>
    decodeBuilt(build.eventCancelResponse({ data_type: DbrType.DOUBLE, sid: 1, subscriptionid: 2 }), 'response'),
  ReadRequest: () => decodeBuilt(build.readRequest({ data_type: DbrType.LONG, sid: 1, ioid: 3 }), 'request'),
  ReadResponse: () =>
    decodeBuilt(build.readResponse({ data_type: DbrType.LONG, data: [4], sid: 1, ioid: 3 }), 'response'),
  WriteRequest: () =>
    decodeBuilt(build.writeRequest({ data_type: DbrType.STRING, data: ['on'], sid: 1, ioid: 3 }), 'request'),
  SearchRequest: () => decodeBuilt(build.searchRequest({ name: 'sim:ai1', cid: 9 }), 'request'),
  SearchResponse: () => decodeBuilt(build.searchResponse({ port: 5064, cid: 9 }), 'response'),
  EventsOffRequest: () => decodeBuilt(build.eventsOffRequest(), 'request'),
  EventsOnRequest: () => decodeBuilt(build.eventsOnRequest(), 'request'),
  ReadSyncRequest: () => decodeBuilt(build.readSyncRequest(), 'request'),
  ReadSyncResponse: () => decodeBuilt(build.readSyncResponse(), 'response'),
  ErrorResponse: () =>
    decodeBuilt(
      build.error({
        original: { command: 15, dataType: DbrType.DOUBLE, dataCount: 1, parameter1: 1, parameter2: 3 },
        cid: 1,
        status: 114,
        message: 'no such channel',
      }),
      'response',
    ),
  ClearChannelRequest: () => decodeBuilt(build.clearChannelRequest({ sid: 1, cid: 9 }), 'request'),
  ClearChannelResponse: () => decodeBuilt(build.clearChannelResponse({ sid: 1, cid: 9 }), 'response'),
  Beacon: () => decodeBuilt(build.beacon({ version: 13, server_port: 5064, beacon_id: 4 }), 'response'),
  NotFoundResponse: () => decodeBuilt(build.notFoundResponse({ cid: 9 }), 'response'),
  ReadNotifyRequest: () =>
    decodeBuilt(build.readNotifyRequest({ data_type: DbrType.CTRL_DOUBLE, sid: 1, ioid: 3 }), 'request'),
  ReadNotifyResponse: () =>
    decodeBuilt(
      build.readNotifyResponse({
        data_type: DbrType.CTRL_DOUBLE,
        data: [Infinity],
        metadata: { ...TIME, units: 'mm', precision: 3, ...LIMITS },
        ioid: 3,
      }),
      'response',
    ),
  RepeaterConfirmResponse: () => decodeBuilt(build.repeaterConfirmResponse({}), 'response'),
  CreateChanRequest: () => decodeBuilt(build.createChanRequest({ name: 'sim:ai1', cid: 9 }), 'request'),
  CreateChanResponse: () =>
    decodeBuilt(build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: 9, sid: 1 }), 'response'),
  WriteNotifyRequest: () =>
    decodeBuilt(build.writeNotifyRequest({ data_type: DbrType.ENUM, data: [1], sid: 1, ioid: 3 }), 'request'),
  WriteNotifyResponse: () =>
    decodeBuilt(build.writeNotifyResponse({ data_type: DbrType.ENUM, status: 0, ioid: 3 }), 'response'),
  ClientNameRequest: () => decodeBuilt(build.clientNameRequest({ name: 'op' }), 'request'),
  HostNameRequest: () => decodeBuilt(build.hostNameRequest({ name: 'ws1' }), 'request'),
  AccessRightsResponse: () => decodeBuilt(build.accessRightsResponse({ cid: 9, access_rights: 3 }), 'response'),
  EchoRequest: () => decodeBuilt(build.echoRequest(), 'request'),
  EchoResponse: () => decodeBuilt(build.echoResponse(), 'response'),
  RepeaterRegisterRequest: () => decodeBuilt(build.repeaterRegisterRequest({}), 'request'),
  CreateChFailResponse: () => decodeBuilt(build.createChFailResponse({ cid: 9 }), 'response'),
  ServerDisconnResponse: () => decodeBuilt(build.serverDisconnResponse({ cid: 9 }), 'response'),
  // An obsolete code (the deframer would refuse it, so it is set after deframing).
  Unknown: () => decodeBuilt(build.echoRequest(), 'request', undefined, { command: 16 }),
};

describe('every command class', () => {
  it.each(Object.entries(CLASSES))('%s is decoded as the type says and validates', (name, make) => {
    const cmd = make();
    expect(cmd.name).toBe(name);
    check(validateCommand, JSON.parse(recordToJSON(cmd)), name);
  });

  it('rejects the spellings the rename left behind and fields no command has', () => {
    const search = JSON.parse(recordToJSON(CLASSES.SearchRequest())) as Record<string, unknown>;
    const { pv, ...rest } = search;
    expect(validateCommand({ ...rest, pv_name: pv })).toBe(false);
    expect(validateCommand({ name: 'ClientNameRequest', id: 20, user_name: 'op' })).toBe(false);
    expect(validateCommand({ ...search, extra: 1 })).toBe(false);
  });
});

/** Every DBR type id, 0..38. */
const DBR_TYPES = Array.from(
  { length: MAX_DBR_TYPE + 1 },
  (_, type) => [dbrTypeName(type) ?? String(type), type] as const,
);

describe('every DBR type', () => {
  it.each(DBR_TYPES)('%s in a READ_NOTIFY reply validates', (typeName, type) => {
    const kind = dbrElementKind(type);
    const data = kind === 'string' ? ['abc'] : kind === 'f32' || kind === 'f64' ? [NaN, 2.5] : [1, 2];
    const metadata = type >= DbrType.GR_STRING ? { ...TIME, ...LIMITS, enumStrings: ['off', 'on'] } : TIME;
    const cmd = decodeBuilt(build.readNotifyResponse({ data_type: type, data, metadata, ioid: 1 }), 'response');
    expect(cmd).toMatchObject({ name: 'ReadNotifyResponse', data_type: type });
    check(validateCommand, JSON.parse(recordToJSON(cmd)), typeName);
  });
});
