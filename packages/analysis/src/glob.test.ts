import { describe, expect, it } from 'vitest';
import { FilterError } from './filter-error.js';
import { compileGlob, MAX_GLOB_ALTERNATIVES, MAX_GLOB_LENGTH } from './glob.js';

/** Steps the matcher may take for one name: one flat pattern's tokens times the name's length, with slack for the ends. */
function bound(name: string, pattern: string, alternatives = 1): number {
  return alternatives * (name.length + 1) * (pattern.length + 1);
}

describe('compileGlob semantics', () => {
  it.each([
    ['a*', 'abc', true],
    ['a*', 'xabc', false],
    ['*:cnt', 'T1:cnt', true],
    ['T?:cnt', 'T1:cnt', true],
    ['T?:cnt', 'T10:cnt', false],
    ['T[12]:cnt', 'T2:cnt', true],
    ['T[!12]:cnt', 'T2:cnt', false],
    ['T[!12]:cnt', 'T3:cnt', true],
    ['T[^12]:cnt', 'T3:cnt', true],
    ['T[a-c]', 'Tb', true],
    ['T[a-c]', 'Td', false],
    ['T[-a]', 'T-', true],
    ['T[a-]', 'T-', true],
    ['T[]a]', 'T]', true],
    ['T[\\]', 'T\\', true],
    ['{wf,wf:scalar}', 'wf:scalar', true],
    ['{wf,wf:scalar}', 'wf:', false],
    ['sim:{ai,bi}1', 'sim:bi1', true],
    ['sim:{ai,bi}1', 'sim:ci1', false],
    ['x{a,{b,c}d}', 'xcd', true],
    ['x{a,}y', 'xy', true],
    ['{[a,b],c}', ',', true],
    ['a,b}', 'a,b}', true],
    ['rpi.color', 'rpiXcolor', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    ['a\\', 'a\\', true],
    ['RPI:*', 'rpi:x', false],
    ['*', '', true],
    ['?', '', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['*a', 'line\na', true],
    ['**x', 'yx', true],
  ])('%s vs %j → %s', (glob, text, expected) => {
    expect(compileGlob(glob).test(text)).toBe(expected);
  });

  it('rejects unclosed classes and alternatives, and reversed ranges', () => {
    expect(() => compileGlob('a[b')).toThrow(FilterError);
    expect(() => compileGlob('{a,b')).toThrow(/unclosed \{/);
    expect(() => compileGlob('[z-a]')).toThrow(/range/);
  });
});

describe('compileGlob cost', () => {
  const pathological = [
    '*a*a*a*a*a*a*a*a*b',
    '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b',
    'a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*',
    '*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab',
    '*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*!',
    '*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*b',
  ];
  const names = ['a'.repeat(60), 'a'.repeat(1000), 'ab'.repeat(500), `${'a'.repeat(999)}c`];

  it.each(pathological)('%s stays within (name length + 1) × (pattern length + 1) steps', (glob) => {
    const m = compileGlob(glob);
    for (const name of names) {
      m.test(name);
      expect(m.steps).toBeLessThanOrEqual(bound(name, glob));
      expect(m.steps).toBeGreaterThan(0);
    }
  });

  it('counts every alternative of a brace expansion, each within its own bound', () => {
    const glob = '{*a*a*a*b,*a*a*a*c,*a*a*a*d}';
    const m = compileGlob(glob);
    const name = 'a'.repeat(1000);
    expect(m.test(name)).toBe(false);
    expect(m.steps).toBeLessThanOrEqual(bound(name, '*a*a*a*b', 3));
  });

  it('matches a pathological glob against 1,000-character names quickly in CPU time too', () => {
    const m = compileGlob('*a*a*a*a*a*a*a*a*b');
    const start = process.cpuUsage();
    for (let i = 0; i < 100; i++) m.test('a'.repeat(1000));
    const used = process.cpuUsage(start);
    // Very generous: the backtracking RegExp took over 10 s for a single 60-character name.
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });

  it('caps the glob length and the brace alternatives', () => {
    expect(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH))).not.toThrow();
    expect(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(/longer than 256 characters/);
    // 2 × 2 × ... (7 times) = 128 alternatives.
    expect(() => compileGlob('{a,b}'.repeat(7))).toThrow(new RegExp(`more than ${MAX_GLOB_ALTERNATIVES} alternatives`));
    expect(compileGlob('{a,b}'.repeat(6)).alternatives).toBe(64);
  });

  it('quotes at most a short prefix of a bad glob in its message', () => {
    let message = '';
    try {
      compileGlob(`[${'x'.repeat(200)}`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/unclosed \[/);
    expect(message.length).toBeLessThan(120);
  });
});
