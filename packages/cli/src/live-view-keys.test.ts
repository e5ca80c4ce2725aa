import { describe, expect, it } from 'vitest';
import { moveView, readKeys } from './live-view-keys.js';

describe('keys of the live view', () => {
  it.each([
    ['q', ['quit']],
    ['\x03', ['quit']],
    ['\t', ['next-map']],
    ['\x1b[Z', ['previous-map']],
    ['\x1b[C\x1bOD', ['next-map', 'previous-map']],
    ['\x1b[A\x1bOB', ['up', 'down']],
    ['\x1b[5~\x1b[6~', ['page-up', 'page-down']],
    ['\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1bOF', ['home', 'end', 'home', 'end', 'home', 'end']],
    ['3', [{ map: 2 }]],
    // Unknown letters and escapes (F5, Ctrl-Up) are skipped whole; j and k scroll as in less.
    ['x\x1b[15~\x1b[1;5Ajk', ['down', 'up']],
  ])('reads %j', (chunk, keys) => {
    expect(readKeys(chunk)).toEqual(keys);
  });

  it('moves between maps (wrapping, starting at their top) and scrolls by lines and pages', () => {
    const bounds = { maps: 3, page: 10 };
    expect(moveView({ selected: 2, scroll: 7 }, 'next-map', bounds)).toEqual({ selected: 0, scroll: 0 });
    expect(moveView({ selected: 0, scroll: 0 }, 'previous-map', bounds)).toEqual({ selected: 2, scroll: 0 });
    expect(moveView({ selected: 0, scroll: 0 }, { map: 1 }, bounds)).toEqual({ selected: 1, scroll: 0 });
    expect(moveView({ selected: 0, scroll: 4 }, { map: 5 }, bounds)).toEqual({ selected: 0, scroll: 4 });
    expect(moveView({ selected: 1, scroll: 4 }, 'page-down', bounds)).toEqual({ selected: 1, scroll: 14 });
    expect(moveView({ selected: 1, scroll: 4 }, 'page-up', bounds)).toEqual({ selected: 1, scroll: 0 });
    expect(moveView({ selected: 1, scroll: 4 }, 'up', bounds)).toEqual({ selected: 1, scroll: 3 });
    expect(moveView({ selected: 1, scroll: 4 }, 'home', bounds)).toEqual({ selected: 1, scroll: 0 });
  });
});
