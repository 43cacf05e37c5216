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
    // No literal ends to reject early: the whole glob goes through the token loop.
    '?*a*a*a*a*a*a*a*a*a*a*a*a*[b]',
    '[a]*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?*[c]',
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

  it('walks the whole name when no literal end rejects it, still within the bound', () => {
    const glob = '?*a*a*a*a*a*a*a*a*a*a*a*a*[b]';
    const m = compileGlob(glob);
    const name = 'a'.repeat(1000);
    expect(m.test(name)).toBe(false);
    expect(m.steps).toBeGreaterThanOrEqual(name.length);
    expect(m.steps).toBeLessThanOrEqual(bound(name, glob));
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

describe('compileGlob agrees with a RegExp reference on small inputs', () => {
  /** The RegExp translation globs used to have (fine for a test's short names; never for wire input). */
  function reference(glob: string): RegExp {
    let re = '';
    let depth = 0;
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i];
      if (c === '*') re += '.*';
      else if (c === '?') re += '.';
      else if (c === '[') {
        const close = glob.indexOf(']', i + 2);
        let body = glob.slice(i + 1, close);
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        re += `[${negate ? '^' : ''}${body}]`;
        i = close;
      } else if (c === '{') {
        depth++;
        re += '(?:';
      } else if (c === '}' && depth > 0) {
        depth--;
        re += ')';
      } else if (c === ',' && depth > 0) re += '|';
      else re += c;
    }
    return new RegExp(`^${re}$`, 's');
  }

  it('on 3,000 random globs and names over a small alphabet', () => {
    // A fixed LCG so a failure reproduces.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let compared = 0;
    const pieces = ['a', 'b', 'c', '*', '?', '[ab]', '[!a]', '[a-b]', '{a,b}', '{ab,*c,}', '{a,{b,c}a}'];
    for (let k = 0; k < 3000; k++) {
      const glob = Array.from({ length: 1 + rand(6) }, () => pieces[rand(pieces.length)]).join('');
      const name = Array.from({ length: rand(9) }, () => 'abc'[rand(3)]).join('');
      let matcher;
      try {
        matcher = compileGlob(glob);
      } catch (err) {
        // Four or more three-way braces go over the alternatives cap; that is tested above.
        expect((err as Error).message).toMatch(/more than 64 alternatives/);
        continue;
      }
      compared++;
      expect(matcher.test(name), `${glob} vs ${name}`).toBe(reference(glob).test(name));
    }
    expect(compared).toBeGreaterThan(2900);
  });
});
