import { describe, expect, it } from 'vitest';
import { renderCommand } from './render.js';
import { compileTemplate, DEFAULT_TEMPLATE, TemplateError, type TemplateRecord } from './template.js';

const search: TemplateRecord = {
  frame: 2,
  timestamp: 1550679069.309346,
  src: '192.168.86.21',
  dst: '255.255.255.255',
  ethernet: { type: 'ethernet', linktype: 1, src: '70:70:fd:f2:4b:3f', dst: 'ff:ff:ff:ff:ff:ff', ethertype: 2048 },
  ip: {
    version: 4,
    hl: 20,
    tos: 0,
    len: 76,
    id: 10227,
    flags: 2,
    offset: 0,
    ttl: 64,
    p: 17,
    sum: 64496,
    src: '192.168.86.21',
    dst: '255.255.255.255',
  },
  transport: { protocol: 'udp', sport: 55928, dport: 5064, ulen: 56, sum: 21249 },
  command: { name: 'SearchRequest', id: 6, pv: 'rpi:color', cid: 24593, version: 13, reply: 5 },
  pv: 'rpi:color',
  role: 'request',
  role_certainty: 'certain',
};

const read: TemplateRecord = {
  ...search,
  timestamp: 1550679076.488508,
  src: '192.168.86.245',
  dst: '192.168.86.21',
  transport: {
    protocol: 'tcp',
    sport: 50421,
    dport: 57522,
    seq: 1,
    ack: 2,
    off: 32,
    flags: 24,
    win: 227,
    sum: 0,
    urp: 0,
  },
  command: {
    name: 'ReadNotifyResponse',
    id: 15,
    data: ['000000'],
    data_type: 0,
    data_type_name: 'STRING',
    data_count: 1,
    status: 1,
    status_name: 'ECA_NORMAL',
    ioid: 0,
  },
  role: 'response',
  latency: 0.06064,
  circuit: 3,
};

describe('compileTemplate', () => {
  it("renders the peer's default line", () => {
    const line = compileTemplate(DEFAULT_TEMPLATE);
    expect(line(search)).toBe(
      "1550679069.309346 192.168.86.21:55928->255.255.255.255:5064 SearchRequest(name='rpi:color', cid=24593, version=13, reply=5)",
    );
    expect(line(read)).toBe(
      "1550679076.488508 192.168.86.245:50421->192.168.86.21:57522 ReadNotifyResponse(data=[b'000000'], data_type=<ChannelType.STRING: 0>, data_count=1, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), ioid=0, metadata=None, pv='rpi:color')",
    );
  });

  it('writes the default line as the general template machinery would', () => {
    const general = compileTemplate(`${DEFAULT_TEMPLATE}!`);
    for (const r of [search, read]) expect(compileTemplate(DEFAULT_TEMPLATE)(r) + '!').toBe(general(r));
  });

  it('gives every default line its own endpoints when consecutive lines share them or not', () => {
    const general = compileTemplate(`${DEFAULT_TEMPLATE}!`);
    const line = compileTemplate(DEFAULT_TEMPLATE);
    const otherPort = { ...read, transport: { ...read.transport, sport: 50422 } };
    const otherHost = { ...read, dst: '192.168.86.22' };
    for (const r of [search, search, read, otherPort, otherPort, read, otherHost, search]) {
      expect(line(r) + '!').toBe(general(r));
    }
  });

  it('gives every default line its own time when consecutive lines share their endpoints or packet', () => {
    const general = compileTemplate(`${DEFAULT_TEMPLATE}!`);
    const line = compileTemplate(DEFAULT_TEMPLATE);
    const later = { ...read, timestamp: read.timestamp + 0.5 };
    const zero = { ...read, timestamp: 0 };
    const negativeZero = { ...read, timestamp: -0 };
    const unknown = { ...read, timestamp: Number.NaN };
    for (const r of [read, read, later, read, zero, negativeZero, zero, unknown, unknown, search]) {
      expect(line(r) + '!').toBe(general(r));
    }
  });

  it('copies a time and endpoints text longer than its first buffer, and a shorter one after it', () => {
    const general = compileTemplate(`${DEFAULT_TEMPLATE}!`);
    const line = compileTemplate(DEFAULT_TEMPLATE);
    const long = { ...read, src: 'fe80::1:'.repeat(16) + '1' };
    for (const r of [long, long, read, long, { ...long, timestamp: 1 }, search]) {
      expect(line(r) + '!').toBe(general(r));
    }
  });

  it('reads attributes, indexes, and the extra tokens', () => {
    const t = compileTemplate(
      '{ip.ttl} {transport.protocol} {command.cid} {command.name} {pv} {role} {latency} {frame}',
    );
    expect(t(search)).toBe('64 udp 24593 SearchRequest rpi:color request None 2');
    expect(compileTemplate('{command.data[0]} {latency:.3f} {circuit}')(read)).toBe('000000 0.061 3');
    expect(compileTemplate('{ethernet.dst}')(search)).toBe('ff:ff:ff:ff:ff:ff');
  });

  it("prints caproto-shark's class with {command} and the decoder's with {decoded} and {command.name}", () => {
    const clear: TemplateRecord = {
      ...search,
      transport: { protocol: 'tcp', sport: 5064, dport: 40000 },
      command: { name: 'ClearChannelResponse', id: 12, sid: 1, cid: 2 },
      role: 'response',
      size: 16,
    };
    expect(compileTemplate('{command}|{decoded}|{command.name}')(clear)).toBe(
      "ClearChannelRequestOrResponse(sid=1, cid=2, pv='rpi:color')|ClearChannelResponse(sid=1, cid=2, pv='rpi:color')|ClearChannelResponse",
    );
    expect(() => compileTemplate('{decoded.sid}')).toThrow(TemplateError);
  });

  it('prints None for fields a command does not have', () => {
    expect(compileTemplate('{command.sid}')(search)).toBe('None');
  });

  it('supports escapes, conversions and format specs', () => {
    expect(compileTemplate('{{{pv}}}')(search)).toBe('{rpi:color}');
    expect(compileTemplate('{pv!r}')(search)).toBe("'rpi:color'");
    expect(compileTemplate('[{pv:>12}]')(search)).toBe('[   rpi:color]');
    expect(compileTemplate('[{pv:<12}]')(search)).toBe('[rpi:color   ]');
    expect(compileTemplate('[{pv:^11}]')(search)).toBe('[ rpi:color ]');
    expect(compileTemplate('{transport.sport:08d}')(search)).toBe('00055928');
    expect(compileTemplate('{command.cid:x}')(search)).toBe('6011');
    expect(compileTemplate('{timestamp:.2f}')(search)).toBe('1550679069.31');
    expect(compileTemplate('{command.cid:,}')(search)).toBe('24,593');
  });

  it('renders the layers caproto-style', () => {
    expect(compileTemplate('{transport}')(search)).toBe('UDP(sport=55928, dport=5064, ulen=56, sum=21249)');
    expect(compileTemplate('{ip}')(search)).toBe(
      "IP(version=4, hl=20, tos=0, len=76, id=10227, flags=2, offset=0, ttl=64, p=17, sum=64496, src='192.168.86.21', dst='255.255.255.255')",
    );
    expect(compileTemplate('{ethernet}')(search)).toBe(
      "Ethernet(linktype=1, src='70:70:fd:f2:4b:3f', dst='ff:ff:ff:ff:ff:ff', ethertype=2048)",
    );
  });

  it.each([
    ['{nope}', /unknown token \{nope\}.*valid tokens are \{timestamp\}, \{src\}/],
    ['{ip.tll}', /unknown attribute \{ip\.tll\}.*ttl/],
    ['{src.x}', /\{src\} has no attributes/],
    ['{pv', /unclosed '\{'/],
    ['a}b', /single '\}'/],
    ['{pv!x}', /bad conversion/],
    ['{pv:zz}', /bad format spec/],
    ['{}', /bad token/],
  ])('rejects %s', (template, message) => {
    expect(() => compileTemplate(template)).toThrow(TemplateError);
    expect(() => compileTemplate(template)).toThrow(message);
  });
});

describe('renderCommand', () => {
  // caproto's reprs list its constructor's parameters: VersionRequest(priority, version),
  // EventCancelRequest(data_type, sid, subscriptionid), EventAddResponse(..., status, ...).
  it("prints the fields of caproto's constructor signatures under caproto's names", () => {
    expect(renderCommand({ name: 'VersionRequest', id: 0, priority: 0, version: 13 }, null)).toBe(
      'VersionRequest(priority=0, version=13)',
    );
    // Over UDP the header's data type (caproto's priority) is decoded as `flag`.
    expect(renderCommand({ name: 'VersionRequest', id: 0, version: 13, flag: 0, sequence: 0 }, null)).toBe(
      'VersionRequest(priority=0, version=13)',
    );
    expect(
      renderCommand(
        {
          name: 'EventCancelRequest',
          id: 2,
          data_type: 20,
          data_type_name: 'TIME_DOUBLE',
          data_count: 0,
          sid: 3,
          subscriptionid: 10,
        },
        'x',
      ),
    ).toBe("EventCancelRequest(data_type=<ChannelType.TIME_DOUBLE: 20>, sid=3, subscriptionid=10, pv='x')");
    expect(
      renderCommand(
        {
          name: 'EventAddResponse',
          id: 1,
          data: new Float64Array([1]),
          data_type: 6,
          data_type_name: 'DOUBLE',
          data_count: 1,
          status: 1,
          subscriptionid: 2,
        },
        null,
      ),
    ).toBe(
      "EventAddResponse(data=array([1.]), data_type=<ChannelType.DOUBLE: 6>, data_count=1, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), subscriptionid=2, metadata=None)",
    );
  });

  it('maps the decoder names of caproto name fields back to name=', () => {
    expect(renderCommand({ name: 'HostNameRequest', id: 21, host_name: 'pop-os' }, null)).toBe(
      "HostNameRequest(name='pop-os')",
    );
    expect(renderCommand({ name: 'ClientNameRequest', id: 20, client_name: 'dallan' }, null)).toBe(
      "ClientNameRequest(name='dallan')",
    );
    expect(
      renderCommand({ name: 'CreateChanRequest', id: 18, pv: 'rpi:color', cid: 0, version: 13 }, 'rpi:color'),
    ).toBe("CreateChanRequest(name='rpi:color', cid=0, version=13)");
  });

  it('prints float payloads as floats and metadata as a DBR struct', () => {
    const text = renderCommand(
      {
        name: 'EventAddResponse',
        id: 1,
        data: [3, 4.5],
        data_type: 20,
        data_type_name: 'TIME_DOUBLE',
        data_count: 2,
        status: 1,
        subscriptionid: 0,
        metadata: { status: 0, statusName: 'NO_ALARM', severity: 0, severityName: 'NO_ALARM', timestamp: 1550679069 },
      },
      'wf',
    );
    expect(text).toBe(
      "EventAddResponse(data=array([3. , 4.5]), data_type=<ChannelType.TIME_DOUBLE: 20>, data_count=2, status=CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, severity=<CASeverity.SUCCESS: 1>, success=1, defunct=False, description='Normal successful completion'), subscriptionid=0, metadata=DBR_TIME_DOUBLE(status=<AlarmStatus.NO_ALARM: 0>, severity=<AlarmSeverity.NO_ALARM: 0>, timestamp=1550679069.0), pv='wf')",
    );
  });

  it('prints waveforms decoded to typed arrays like plain arrays, a CHAR one (Uint8Array) as numbers', () => {
    const waveform = (data: ArrayLike<number>, typeName: string): string =>
      renderCommand({ name: 'EventAddResponse', id: 1, data, data_type_name: typeName, data_count: data.length }, null);
    const values = Array.from({ length: 20 }, (_, i) => i);
    expect(waveform(new Float64Array(values), 'DOUBLE')).toBe(waveform(values, 'DOUBLE'));
    expect(waveform(new Int16Array(values), 'SHORT')).toBe(waveform(values, 'SHORT'));
    expect(waveform(new Uint8Array(values), 'CHAR')).toBe(waveform(values, 'CHAR'));
    const char = { ...read, command: { ...read.command, data: new Uint8Array([104, 105]), data_type_name: 'CHAR' } };
    expect(compileTemplate('{command.data} {command.data[1]}')(char)).toBe('[104, 105] 105');
  });

  it("prints an ERROR's original request header as that request", () => {
    const text = renderCommand(
      {
        name: 'ErrorResponse',
        id: 11,
        original_request: {
          command: 2,
          command_name: 'EVENT_CANCEL',
          request_name: 'EventCancelRequest',
          payload_size: 0,
          data_type: 6,
          data_count: 0,
          parameter1: 102,
          parameter2: 99,
          header_size: 16,
        },
        cid: 2,
        status_code: 242,
        error_message: 'bad monitor id',
      },
      'wl:2',
    );
    expect(text).toBe(
      "ErrorResponse(original_request=EventCancelRequest(data_type=6, data_count=0, parameter1=102, parameter2=99), cid=2, status=CAStatusCode(name='ECA_BADMONID', code=30, code_with_severity=242, severity=<CASeverity.ERROR: 2>, success=0, defunct=False, description='Bad event subscription (monitor) identifier'), error_message='bad monitor id', pv='wl:2')",
    );
  });

  it('prints every field of commands it has no order for, and Malformed', () => {
    expect(renderCommand({ name: 'Unknown', id: 99, command_name: '99', payload_size: 0 }, null)).toBe(
      "Unknown(command_name='99', payload_size=0)",
    );
    expect(
      renderCommand(
        { name: 'Malformed', id: -1, reason: 'bad header', code: 'bad-command', length: 16, hex: '00ff' },
        null,
      ),
    ).toBe("Malformed(reason='bad header', code='bad-command', length=16, hex='00ff')");
  });
});
