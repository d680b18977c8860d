import { describe, expect, it } from 'vitest';
import { isoTime, safeJson, terminalSafe } from './output.js';

describe('what the clockface command prints', () => {
  it('shows escape sequences, bidi overrides and invisible characters instead of letting a terminal act on them', () => {
    expect(terminalSafe('Eve\u001b[2J\u001b]0;pwned\u0007')).toBe('Eve\\u{1b}[2J\\u{1b}]0;pwned\\u{7}');
    expect(terminalSafe('abc\u202edef\u200b\u009b')).toBe('abc\\u{202e}def\\u{200b}\\u{9b}');
    expect(terminalSafe('line one\r\nline two\tcol\n')).toBe('line one\r\nline two\tcol\n');
    expect(terminalSafe('shown\rhidden')).toBe('shown\\u{d}hidden');
    expect(terminalSafe('Zoë 张伟 Ñandú')).toBe('Zoë 张伟 Ñandú');
  });

  it('keeps JSON valid and equal in value', () => {
    const value = { name: 'Eve\u001b[2J\u202e\u009b', plain: 'José' };
    const text = safeJson(value);
    expect([...text].filter((c) => '\u001b\u202e\u009b'.includes(c))).toEqual([]);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("prints a time PostgreSQL holds that JavaScript cannot ('infinity') instead of crashing", () => {
    expect(isoTime(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z');
    expect(isoTime(new Date(Number.NaN))).toBe('invalid time');
    expect(isoTime('infinity')).toBe('infinity');
  });
});
