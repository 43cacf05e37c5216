import { describe, expect, it } from 'vitest';
import {
  caughtUp,
  clockToUnix,
  countWsFrame,
  emptyWsCounts,
  firstBreak,
  healthFigures,
  hotFunctions,
  loadCells,
  LOAD_HEADERS,
  pageFigures,
  stagesNote,
  parseSteps,
  parseTcpreplay,
  parseTimer,
  planStep,
  procCpuSeconds,
  procStatTicks,
  threadCores,
  renderLoadTable,
  slowestSwitch,
  statsCounters,
  statsDelta,
  ZERO_COUNTERS,
} from './load-plan.js';
import type { CpuProfile, PageSample, StatsCounters, StepResult } from './load-plan.js';

const FILE = { frameBytes: 40_000_000, durationS: 16, messages: 110_000 };

describe('parseSteps', () => {
  it('reads rising rates or multipliers', () => {
    expect(parseSteps('25, 50,250', 'mbps')).toEqual([
      { kind: 'mbps', value: 25 },
      { kind: 'mbps', value: 50 },
      { kind: 'mbps', value: 250 },
    ]);
    expect(parseSteps('1,2.5', 'multiplier')).toEqual([
      { kind: 'multiplier', value: 1 },
      { kind: 'multiplier', value: 2.5 },
    ]);
  });

  it('refuses what is not a positive number, and an empty list', () => {
    expect(() => parseSteps('25,x', 'mbps')).toThrow('"x"');
    expect(() => parseSteps('0', 'mbps')).toThrow('"0"');
    expect(() => parseSteps(' , ', 'mbps')).toThrow('no mbps steps');
  });
});

describe('planStep', () => {
  it('replays whole passes of the file for about the step length, new flows from the second pass on', () => {
    // 40 MB at 25 Mbit/s take 12.8 s: one pass.
    const slow = planStep({ kind: 'mbps', value: 25 }, FILE, 12);
    expect(slow.loops).toBe(1);
    expect(slow.args).toEqual(['--pktlen', '--timer', 'nano', '--mbps', '25']);
    expect(slow.expectedMessages).toBe(110_000);
    // At 250 Mbit/s one pass takes 1.28 s: nine passes make 11.5 s.
    const fast = planStep({ kind: 'mbps', value: 250 }, FILE, 12);
    expect(fast.loops).toBe(9);
    expect(fast.args).toEqual(['--pktlen', '--timer', 'nano', '--mbps', '250', '--loop', '9', '--unique-ip']);
    expect(fast.expectedMessages).toBe(990_000);
  });

  it('scales the capture timing for multipliers', () => {
    expect(planStep({ kind: 'multiplier', value: 1 }, FILE, 12).loops).toBe(1);
    const x20 = planStep({ kind: 'multiplier', value: 20 }, FILE, 12);
    // 16 s / 20 = 0.8 s a pass: 15 passes.
    expect(x20.loops).toBe(15);
    expect(x20.args.slice(0, 5)).toEqual(['--pktlen', '--timer', 'nano', '--multiplier', '20']);
  });

  it("sleeps between packets unless told to spin as tcpreplay's default does", () => {
    expect(planStep({ kind: 'mbps', value: 250 }, FILE, 12, 'gtod').args.slice(0, 3)).toEqual([
      '--pktlen',
      '--timer',
      'gtod',
    ]);
    expect(parseTimer('gtod')).toBe('gtod');
    expect(() => parseTimer('select')).toThrow('"select"');
  });

  it('never plans zero passes', () => {
    expect(planStep({ kind: 'multiplier', value: 5 }, { ...FILE, durationS: 0 }, 12).loops).toBe(1);
  });
});

const TCPREPLAY_OUTPUT = `Warning in sendpacket.c:sendpacket_open_pf() line 952:
Unsupported physical layer type 0x0304 on lo.  Maybe it works, maybe it won't.  See tickets #123/318
Actual: 40000 packets (72972954 bytes) sent in 5.84 seconds
Rated: 12487141.0 Bps, 99.89 Mbps, 6844.80 pps
Flows: 74 flows, 12.66 fps, 40000 unique flow packets, 0 unique non-flow packets
Statistics for network device: lo
\tSuccessful packets:        39990
\tFailed packets:            10
\tTruncated packets:         0
`;

describe('parseTcpreplay', () => {
  it('reads what was sent and what failed', () => {
    expect(parseTcpreplay(TCPREPLAY_OUTPUT)).toEqual({
      packets: 40000,
      bytes: 72972954,
      seconds: 5.84,
      failedPackets: 10,
    });
  });

  it('gives undefined when tcpreplay printed no summary', () => {
    expect(parseTcpreplay('tcpreplay: Unable to open lo: Operation not permitted\n')).toBeUndefined();
  });
});

const STATS_BEFORE = {
  packets: 10,
  bytes: 999,
  messages: 100,
  messagesPerSecond: 0,
  perCommand: {},
  malformed: 1,
  decoderDropped: 0,
  capture: { received: 20, dropped: 2 ** 32 - 5, ifDropped: 1 },
  websocket: { clients: 1, dropped: 3 },
};

describe('/api/stats deltas', () => {
  it('reads the counters, libpcap drops as buffer plus interface drops', () => {
    expect(statsCounters(STATS_BEFORE)).toEqual({
      packets: 10,
      messages: 100,
      malformed: 1,
      decoderDropped: 0,
      captureDropped: 2 ** 32 - 4,
      wsDropped: 3,
    });
  });

  it('gives NaN for missing counters instead of inventing zeros', () => {
    const c = statsCounters({ messages: 5 });
    expect(c.messages).toBe(5);
    expect(c.decoderDropped).toBeNaN();
    expect(c.captureDropped).toBeNaN();
  });

  it('subtracts counter by counter, across a wrap of libpcap’s 32-bit drop counter', () => {
    const after = statsCounters({
      ...STATS_BEFORE,
      packets: 510,
      messages: 2100,
      malformed: 3,
      decoderDropped: 7,
      capture: { received: 100, dropped: 5, ifDropped: 1 },
      websocket: { clients: 1, dropped: 3 },
    });
    expect(statsDelta(statsCounters(STATS_BEFORE), after)).toEqual({
      packets: 500,
      messages: 2000,
      malformed: 2,
      decoderDropped: 7,
      captureDropped: 10,
      wsDropped: 0,
    });
  });
});

describe('caughtUp', () => {
  const delta = (packets: number, decoderDropped = 0, captureDropped = 0): StatsCounters => ({
    ...ZERO_COUNTERS,
    packets,
    decoderDropped,
    captureDropped,
  });
  it('waits for a still count and every packet accounted for', () => {
    expect(caughtUp(delta(1000), 1000, 1000, 5000, 999)).toBe(false);
    expect(caughtUp(delta(1000), 1000, 1000, 5000, 1000)).toBe(true);
    // Still for 1 s but packets missing: a starved daemon's stale count, keep waiting.
    expect(caughtUp(delta(600), 1000, 1000, 5000, 1500)).toBe(false);
    // Dropped frames count as accounted for; libpcap counts each lo packet twice.
    expect(caughtUp(delta(600, 300, 200), 1000, 1000, 5000, 1500)).toBe(true);
  });

  it('gives up once the count stood still long enough (packets the kernel lost never show up)', () => {
    expect(caughtUp(delta(600), 1000, 1000, 5000, 5000)).toBe(true);
  });
});

describe('procCpuSeconds', () => {
  it('adds utime and stime, also when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194304 9000 0 0 0 1234 566 0 0 20 0 11 0 100 0 0';
    expect(procCpuSeconds(stat)).toBeCloseTo(18.0, 6);
    expect(procCpuSeconds(stat, 1000)).toBeCloseTo(1.8, 6);
  });
});

describe('countWsFrame', () => {
  it('counts records, the matched/sent the frames carry, dropped notices and sampling', () => {
    const c = emptyWsCounts();
    countWsFrame(c, { type: 'hello', version: '0.1.0' });
    countWsFrame(c, { type: 'records', records: [{}, {}, {}] });
    expect(c).toMatchObject({ frames: 2, records: 3, dropped: 0 });
    expect(c.matched).toBeNaN();
    countWsFrame(c, { type: 'records', records: [{}], matched: 500, sent: 1, sampling: true });
    countWsFrame(c, { type: 'dropped', count: 40 });
    countWsFrame(c, { type: 'records', records: [{}, {}], matched: 2, sent: 2, sampling: false });
    expect(c).toEqual({ frames: 5, records: 6, matched: 502, sent: 3, dropped: 40, samplingFrames: 1 });
  });
});

describe('clockToUnix', () => {
  const noon = Date.UTC(2026, 11, 6, 12, 0, 0);
  it('reads the Live table clock as a time of the day nearest to now', () => {
    expect(clockToUnix('11:59:58.250', noon)).toBe((noon - 1750) / 1000);
    // Just before midnight, seen just after it: the day before.
    const justAfterMidnight = Date.UTC(2026, 11, 7, 0, 0, 1);
    expect(clockToUnix('23:59:59.000', justAfterMidnight)).toBe((justAfterMidnight - 2000) / 1000);
  });

  it('gives NaN for other text', () => {
    expect(clockToUnix('', noon)).toBeNaN();
    expect(clockToUnix('12:00', noon)).toBeNaN();
  });
});

describe('pageFigures', () => {
  const t0 = 1_000_000;
  const samples: PageSample[] = [
    [t0 - 500, 900, NaN, null, null], // before the window: ignored
    [t0 + 100, 5, NaN, null, null], // no rows yet
    [t0 + 1000, 40, (t0 + 1000 - 2500) / 1000, 2400, 0],
    [t0 + 2000, 1200, (t0 + 2000 - 4000) / 1000, 3900, 1],
    [t0 + 3000, 10, (t0 + 3000 - 1000) / 1000, 900, 1],
    [t0 + 9000, 7000, 0, null, null], // after the window: ignored
  ];
  it('takes lag, the page’s own lag, timer lateness and sampling from the samples in the window', () => {
    const f = pageFigures(samples, [], t0, t0 + 3000);
    expect(f.lagMaxS).toBeCloseTo(4, 6);
    expect(f.lagMaxAtS).toBe(2);
    expect(f.lagP50S).toBeCloseTo(2.5, 6);
    expect(f.lagEndS).toBeCloseTo(1, 6);
    expect(f.pageLagMaxMs).toBe(3900);
    expect(f.timerLateMaxMs).toBe(1200);
    expect(f).toMatchObject({ samples: 4, samplingSamples: 2 });
  });

  it('counts long tasks that overlap the window', () => {
    const tasks: [number, number][] = [
      [t0 - 2000, 500], // ended before
      [t0 - 100, 300], // overlaps the start
      [t0 + 1500, 120],
      [t0 + 3500, 4000], // after
    ];
    expect(pageFigures(samples, tasks, t0, t0 + 3000)).toMatchObject({ longTasks: 2, longestTaskMs: 300 });
  });

  it('splits the lag into the status bar’s stages and the rest, the page’s part', () => {
    const staged: PageSample[] = [
      [t0 + 100, 0, (t0 + 100 - 1000) / 1000, 1000, 1, [10, 500, 5, 50, 40]],
      [t0 + 200, 0, (t0 + 200 - 1400) / 1000, 1400, 1, [20, 900, 3, 90, 10]],
      [t0 + 300, 0, (t0 + 300 - 600) / 1000, 600, 1, [30, 300, 4, 70, 20]],
    ];
    const f = pageFigures(staged, [], t0, t0 + 3000);
    expect((f.stages ?? []).map((s) => [s.stage, s.p50Ms, s.maxMs])).toEqual([
      ['capture', 20, 30],
      ['decoder', 500, 900],
      ['main', 4, 5],
      ['hub', 70, 90],
      ['to page', 20, 40],
      ['page', 377, 395],
    ]);
    expect(stagesNote(f.stages ?? [])).toBe(
      'lag stages p50/max ms: capture 20/30, decoder 500/900, main 4/5, hub 70/90, to page 20/40, page 377/395',
    );
    expect(pageFigures(samples, [], t0, t0 + 3000).stages).toEqual([]);
  });

  it('gives the stages of the flood’s start, the window’s first 3 s, on their own', () => {
    const staged: PageSample[] = [
      [t0 + 100, 0, (t0 + 100 - 2000) / 1000, 2000, 1, [10, 1800, 5, 50, 40]],
      [t0 + 2900, 0, (t0 + 2900 - 1400) / 1000, 1400, 1, [20, 1200, 3, 90, 10]],
      [t0 + 3100, 0, (t0 + 3100 - 600) / 1000, 600, 1, [30, 300, 4, 70, 20]],
      [t0 + 5000, 0, (t0 + 5000 - 500) / 1000, 500, 1, [30, 200, 4, 70, 20]],
    ];
    const f = pageFigures(staged, [], t0, t0 + 9000);
    expect((f.startStages ?? []).map((s) => [s.stage, s.maxMs])).toEqual([
      ['capture', 20],
      ['decoder', 1800],
      ['main', 5],
      ['hub', 90],
      ['to page', 40],
      ['page', 95],
    ]);
    expect(f.stages?.find((s) => s.stage === 'decoder')).toMatchObject({ maxMs: 1800 });
    expect(stagesNote(f.startStages ?? [], 'first 3 s')).toMatch(
      /^first 3 s p50\/max ms: capture 15\/20, decoder 1,500\/1,800,/,
    );
  });

  it('says NaN when the page showed no rows', () => {
    const f = pageFigures([[t0 + 1, 3, NaN, null, null]], [], t0, t0 + 10);
    expect(f.lagMaxS).toBeNaN();
    expect(f.pageLagMaxMs).toBeNaN();
  });
});

describe('healthFigures', () => {
  it('takes p99 and max over answered polls and counts the unanswered', () => {
    const lat = [...Array.from({ length: 99 }, () => 2), 400, NaN, NaN];
    const h = healthFigures(lat);
    expect(h.polls).toBe(102);
    expect(h.failed).toBe(2);
    expect(h.maxMs).toBe(400);
    expect(h.p99Ms).toBeGreaterThan(2);
    expect(h.p99Ms).toBeLessThan(400);
  });
});

function result(over: Partial<Omit<StepResult, 'delta'>> & { delta?: Partial<StatsCounters> }): StepResult {
  const plan = planStep({ kind: 'mbps', value: 250 }, FILE, 12);
  return {
    plan,
    clients: 'none',
    replay: { packets: 1000, bytes: 250_000_000 * 1.5, seconds: 12, failedPackets: 0 },
    drainS: 0.3,
    daemonCores: 1.2,
    health: { polls: 120, p99Ms: 3.4, maxMs: 8, failed: 0 },
    note: '',
    ...over,
    delta: { ...ZERO_COUNTERS, messages: plan.expectedMessages, ...over.delta },
  };
}

describe('the load table', () => {
  it('shows offered rates from what tcpreplay sent, and decoded against the file', () => {
    const cells = loadCells(result({ delta: { messages: 891_000, captureDropped: 12 } }));
    expect(cells).toHaveLength(LOAD_HEADERS.length);
    expect(cells.slice(0, 11)).toEqual([
      '250 Mbit/s',
      'none',
      '250',
      '82,500',
      '0 / 1,000',
      '891,000 / 990,000 (90.0 %)',
      '12',
      '0',
      '0',
      '0.3',
      '1.20',
    ]);
    expect(cells[16]).toBe('3 (8)');
    expect(cells.at(-1)).toBe('9 passes');
    // Thread, machine and decoder figures stay empty for a step that did not measure them.
    expect(cells.slice(17, 20)).toEqual(['', '', '']);
  });

  it('shows the daemon threads, the machine and the decoder’s own lag and stream share', () => {
    const cells = loadCells(
      result({
        cores: { main: 0.31, worker: 0.72, machine: 1.96, chromium: 0.42, bench: 0.25 },
        decoder: { lagMaxMs: 1234, shareMin: 0.0625 },
      }),
    );
    expect(cells.slice(17, 20)).toEqual(['0.31 / 0.72', '1.96 / 0.42 / 0.25', '1,234 (0.063)']);
    expect(loadCells(result({ decoder: { lagMaxMs: 12, shareMin: NaN } }))[19]).toBe('12');
  });

  it('flags more messages than offered (traffic from elsewhere), and shows the clients’ figures', () => {
    const cells = loadCells(
      result({
        clients: 'page+ws',
        delta: { messages: 1_000_000 },
        ws: { frames: 10, records: 500_000, matched: 1_000_000, sent: 500_000, dropped: 0, samplingFrames: 3 },
        page: {
          longTasks: 3,
          longestTaskMs: 180,
          lagMaxS: 2.25,
          lagEndS: 0.5,
          pageLagMaxMs: 2100,
          timerLateMaxMs: 95,
          samples: 10,
          samplingSamples: 5,
        },
        switches: [
          { view: 'channels', ms: 120.4 },
          { view: 'errors', ms: 310.6 },
          { view: 'live', ms: 80 },
        ],
        health: { polls: 120, p99Ms: 3.4, maxMs: 8, failed: 2 },
      }),
    );
    expect(cells[5]).toContain('(more than offered: other traffic?)');
    expect(cells.slice(11, 16)).toEqual([
      '500,000 (50.0 %), 1,000,000/500,000',
      '3 (180)',
      'Errors 311',
      '2.3 / 0.5',
      '95',
    ]);
    expect(cells.at(-1)).toBe(
      '9 passes; page sampling 50.0 %; page says lag ≤ 2.1 s; back to Live 80 ms; 2 health polls unanswered',
    );
  });

  it('does not call one Malformed record more than offered traffic from elsewhere', () => {
    expect(loadCells(result({ delta: { messages: 990_001 } }))[5]).toBe('990,001 / 990,000 (100.0 %)');
  });

  it('renders a Markdown table with a row per step', () => {
    const text = renderLoadTable([result({}), result({ clients: 'page+ws' })]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| step +\| clients +\| offered Mbit\/s/);
    expect(lines[1]).toMatch(/^\|-+\|/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe('slowestSwitch', () => {
  it('picks the slowest tab switch, a failed one before any other, and nothing from an empty tour', () => {
    const channels = { view: 'channels', ms: 120 };
    const servers = { view: 'servers', ms: 290 };
    const failed = { view: 'clients', ms: NaN };
    expect(slowestSwitch([channels, servers, { view: 'live', ms: 40 }])).toBe(servers);
    expect(slowestSwitch([channels, failed, servers])).toBe(failed);
    expect(slowestSwitch([])).toBeUndefined();
    expect(loadCells(result({ switches: [channels, failed] }))[13]).toBe('Clients failed');
    expect(loadCells(result({}))[13]).toBe('');
  });
});

describe('firstBreak', () => {
  it('finds the first step with drops, lost messages or a backlog, and says which', () => {
    const ok = result({});
    const lossy = result({ delta: { messages: 900_000, decoderDropped: 30 } });
    const slow = result({ drainS: NaN });
    expect(firstBreak([ok, ok])).toBeUndefined();
    expect(firstBreak([ok, lossy, slow])).toEqual({
      result: lossy,
      why: 'decoder dropped 30 frames, decoded 90.9 % of the messages',
    });
    expect(firstBreak([slow])?.why).toBe('kept decoding long after the replay (backlog)');
  });
});

describe('hotFunctions', () => {
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      { id: 3, callFrame: { functionName: 'decode', url: 'file:///w/packages/decoder/dist/x.js', lineNumber: 9 } },
      // The same function reached by another call path.
      { id: 4, callFrame: { functionName: 'decode', url: 'file:///w/packages/decoder/dist/x.js', lineNumber: 9 } },
      { id: 5, callFrame: { functionName: '', url: 'file:///w/packages/daemon/dist/y.js', lineNumber: 0 } },
    ],
    samples: [3, 2, 4, 5, 3],
    // The time of a sample is the gap to the next one.
    timeDeltas: [0, 1000, 4000, 2000, 1000, 500],
  };

  it('sums self time per function over call paths, biggest first, leaving idle out', () => {
    const hot = hotFunctions(profile, 5);
    expect(hot.functions).toEqual([
      { name: 'decode decoder/dist/x.js:10', selfMs: 3.5, share: 0.35 },
      { name: '(anonymous) daemon/dist/y.js:1', selfMs: 1, share: 0.1 },
    ]);
    expect(hot.busyShare).toBeCloseTo(0.6, 6);
    expect(hotFunctions(profile, 1).functions).toHaveLength(1);
  });
});

describe('procStatTicks and threadCores', () => {
  it('reads busy and total ticks of all CPUs from /proc/stat', () => {
    const stat = 'cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 50 2 25 400 10 1 1 5 0 0\n';
    expect(procStatTicks(stat)).toEqual({ busy: 170, total: 990 });
  });

  it('tells the main thread (tid = pid) from the busiest other thread', () => {
    const before = new Map([
      [100, 1.0],
      [101, 0.2],
      [107, 3.0],
    ]);
    const after = new Map([
      [100, 1.5],
      [101, 0.3],
      [107, 4.25],
      [110, 0.5],
    ]);
    expect(threadCores(100, before, after)).toEqual({ main: 0.5, worker: 1.25 });
  });
});
