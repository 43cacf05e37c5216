import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './cli.js';
import { parseHistory } from './history-options.js';

describe('--history', () => {
  it('takes a record count, a duration or both; a bound not given keeps its default', () => {
    expect(parseHistory('500000')).toEqual({ maxRecords: 500_000, maxSeconds: 600 });
    expect(parseHistory('500k')).toEqual({ maxRecords: 500_000, maxSeconds: 600 });
    expect(parseHistory('30m')).toEqual({ maxRecords: 1_000_000, maxSeconds: 1800 });
    expect(parseHistory('2M, 2h')).toEqual({ maxRecords: 2_000_000, maxSeconds: 7200 });
    expect(parseHistory('1d,90s'.split(',')[0])).toEqual({ maxRecords: 1_000_000, maxSeconds: 86_400 });
    expect(parseHistory('0')).toEqual({ maxRecords: 0, maxSeconds: 0 });
  });

  it('refuses anything else with one line that shows the forms', () => {
    for (const bad of ['', '10 minutes', '5x', '1M,2M', '10m,1h', '-3', '1.5M'])
      expect(() => parseHistory(bad), bad).toThrow(/^bad --history .*use records \(500000, 500k, 2M\)/);
  });

  it('is a daemon option; absent, the daemon uses its defaults', () => {
    expect(parseCommandLine(['--stdin', '--history', '100k,5m'], {}).history).toEqual({
      maxRecords: 100_000,
      maxSeconds: 300,
    });
    expect(parseCommandLine(['--stdin'], {}).history).toBeUndefined();
  });
});
