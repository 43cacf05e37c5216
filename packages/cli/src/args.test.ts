import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './args.js';
import { useColor } from './color.js';

describe('parseCommandLine', () => {
  it('has the defaults of a plain run', () => {
    expect(parseCommandLine([])).toEqual({
      command: 'print',
      files: [],
      help: false,
      version: false,
      format: null,
      json: false,
      color: 'auto',
      pv: [],
      host: [],
      commands: [],
      errors: false,
      ports: [],
      top: 10,
      sections: [],
      write: null,
      decoderNames: false,
    });
  });

  it('takes the report subcommand with comma-separated and repeated sections, and --section only there', () => {
    expect(parseCommandLine(['report', '--section', 'beacons,writes', '--section', 'logs', 'x.pcap'])).toMatchObject({
      command: 'report',
      sections: ['beacons', 'writes', 'logs'],
      files: ['x.pcap'],
    });
    expect(() => parseCommandLine(['--section', 'beacons', 'x.pcap'])).toThrow(
      '--section goes with the report command',
    );
  });

  it('collects repeated filters, comma-separated ports and the stats subcommand', () => {
    const o = parseCommandLine([
      'stats',
      '--pv',
      'a*',
      '--pv',
      'b',
      '--host',
      '10.0.0.0/8',
      '--command',
      'search,read',
      '--ports',
      '5070,5080',
      '--ports',
      '6000',
      '--top',
      '3',
      '--json',
      'x.pcap',
      '-',
    ]);
    expect(o).toMatchObject({
      command: 'stats',
      files: ['x.pcap', '-'],
      pv: ['a*', 'b'],
      host: ['10.0.0.0/8'],
      commands: ['search,read'],
      ports: [5070, 5080, 6000],
      top: 3,
      json: true,
    });
  });

  it('takes --decoder-names for the default line only', () => {
    expect(parseCommandLine(['--decoder-names', 'x.pcap']).decoderNames).toBe(true);
    expect(() => parseCommandLine(['--decoder-names', '--json'])).toThrow(/--json has them \(command.name\)/);
    expect(() => parseCommandLine(['--decoder-names', '--format', '{command}'])).toThrow(/--format has \{decoded\}/);
  });

  it('treats stats as the subcommand only in first place', () => {
    expect(parseCommandLine(['x.pcap', 'stats'])).toMatchObject({ command: 'print', files: ['x.pcap', 'stats'] });
  });

  it.each([
    [['--color', 'sometimes'], /--color must be auto, always or never/],
    [['--json', '--format', '{pv}'], /cannot be combined/],
    [['--ports', '0'], /not a port number/],
    [['--ports', 'http'], /not a port number/],
    [['--top', 'many'], /not a count/],
    [['--top=-1'], /not a count/],
    [['--nope'], /nope/],
    [['--format'], /argument missing|format/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});

describe('useColor', () => {
  it('follows the terminal, NO_COLOR, FORCE_COLOR and --color', () => {
    expect(useColor('auto', true, {})).toBe(true);
    expect(useColor('auto', false, {})).toBe(false);
    expect(useColor('auto', true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor('auto', true, { NO_COLOR: '' })).toBe(true);
    expect(useColor('auto', false, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor('auto', false, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColor('always', false, { NO_COLOR: '1' })).toBe(true);
    expect(useColor('never', true, { FORCE_COLOR: '1' })).toBe(false);
  });
});
