// Keys of the live view, as top has them: what a chunk read from a raw-mode terminal means (arrows, Tab, PgUp…,
// in both the normal and the application cursor forms terminals send), and where each key moves the view. Pure.

export type LiveKey =
  | 'quit'
  | 'next-map'
  | 'previous-map'
  | 'up'
  | 'down'
  | 'page-up'
  | 'page-down'
  | 'home'
  | 'end'
  | { map: number };

const SEQUENCES: readonly [string, LiveKey][] = [
  ['\x1b[5~', 'page-up'],
  ['\x1b[6~', 'page-down'],
  ['\x1b[1~', 'home'],
  ['\x1b[7~', 'home'],
  ['\x1b[4~', 'end'],
  ['\x1b[8~', 'end'],
  ['\x1b[A', 'up'],
  ['\x1bOA', 'up'],
  ['\x1b[B', 'down'],
  ['\x1bOB', 'down'],
  ['\x1b[C', 'next-map'],
  ['\x1bOC', 'next-map'],
  ['\x1b[D', 'previous-map'],
  ['\x1bOD', 'previous-map'],
  ['\x1b[H', 'home'],
  ['\x1bOH', 'home'],
  ['\x1b[F', 'end'],
  ['\x1bOF', 'end'],
  ['\x1b[Z', 'previous-map'],
  ['\t', 'next-map'],
  ['\x03', 'quit'],
  ['q', 'quit'],
  ['Q', 'quit'],
  ['k', 'up'],
  ['j', 'down'],
  [' ', 'page-down'],
  ['g', 'home'],
  ['G', 'end'],
];

/** The keys in one chunk of terminal input; anything else (other escapes, letters) is skipped. */
export function readKeys(chunk: string): LiveKey[] {
  const keys: LiveKey[] = [];
  let i = 0;
  while (i < chunk.length) {
    const found = SEQUENCES.find(([seq]) => chunk.startsWith(seq, i));
    if (found !== undefined) {
      keys.push(found[1]);
      i += found[0].length;
      continue;
    }
    const c = chunk[i] ?? '';
    if (c >= '1' && c <= '9') keys.push({ map: Number(c) - 1 });
    // An unknown escape sequence is skipped whole (ESC, an optional [ or O, parameters, a final letter or ~).
    const unknown = c === '\x1b' ? /^\x1b[[O]?[0-9;]*[A-Za-z~]?/.exec(chunk.slice(i)) : null;
    i += unknown === null ? 1 : Math.max(1, unknown[0].length);
  }
  return keys;
}

export interface ViewPosition {
  selected: number;
  scroll: number;
}

/** Where a key leaves the view: a map switch starts at its top; scrolling past the ends is clamped when drawn. */
export function moveView(
  at: ViewPosition,
  key: Exclude<LiveKey, 'quit'>,
  bounds: { maps: number; page: number },
): ViewPosition {
  const maps = Math.max(1, bounds.maps);
  const page = Math.max(1, bounds.page);
  if (typeof key === 'object') return key.map < bounds.maps ? { selected: key.map, scroll: 0 } : at;
  switch (key) {
    case 'next-map':
      return { selected: (at.selected + 1) % maps, scroll: 0 };
    case 'previous-map':
      return { selected: (at.selected + maps - 1) % maps, scroll: 0 };
    case 'up':
      return { ...at, scroll: Math.max(0, at.scroll - 1) };
    case 'down':
      return { ...at, scroll: at.scroll + 1 };
    case 'page-up':
      return { ...at, scroll: Math.max(0, at.scroll - page) };
    case 'page-down':
      return { ...at, scroll: at.scroll + page };
    case 'home':
      return { ...at, scroll: 0 };
    case 'end':
      return { ...at, scroll: Number.MAX_SAFE_INTEGER };
  }
}
