import { describe, expect, it } from 'vitest';
import { formatLogRecord, logFormatOption } from './log.js';

const time = new Date('2026-12-02T10:00:00.000Z');

describe('log lines', () => {
  it('JSON: one object per line with time first; C1 controls and bidi overrides escaped, still valid JSON', () => {
    const line = formatLogRecord({ level: 'warn', msg: 'key \u009b2J \u202e', map: '@x' }, 'json', time);
    expect(line).toBe('{"time":"2026-12-02T10:00:00.000Z","level":"warn","msg":"key \\u009b2J \\u202e","map":"@x"}\n');
    expect(JSON.parse(line)).toMatchObject({ msg: 'key \u009b2J \u202e' });
  });

  it('text: ktrace: level: msg, then fields; nothing reaches the terminal as a control character', () => {
    expect(formatLogRecord({ level: 'info', msg: 'ktrace running', maps: ['@a'], pid: 7 }, 'text', time)).toBe(
      'ktrace: ktrace running maps=["@a"] pid=7\n',
    );
    expect(formatLogRecord({ level: 'error', msg: 'bad \u001b[2J', input: 'a b' }, 'text', time)).toBe(
      'ktrace: error: bad \\x1b[2J input="a b"\n',
    );
    expect(formatLogRecord({ level: 'warn', msg: 'm', input: 'x\u001b]0;t\u0007' }, 'text', time)).toBe(
      'ktrace: warning: m input=x\\x1b]0;t\\x07\n',
    );
  });

  it('auto is text on a terminal and JSON elsewhere', () => {
    expect(logFormatOption(undefined, { isTTY: true })).toBe('text');
    expect(logFormatOption('auto', {})).toBe('json');
    expect(logFormatOption('json', { isTTY: true })).toBe('json');
  });
});
