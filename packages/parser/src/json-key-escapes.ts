// bpftrace 0.22–0.23 escape a JSON map key twice: JsonOutput::map_key_str escapes each key part while joining
// them, and the line writer escapes the joined key again. A decoded key then keeps one backslash too many:
// `q\"uote` where text (and 0.17, 0.24+) say `q"uote`, `back\\slash`, and stacks with a literal `\n`.

/** Whether this bpftrace version writes JSON keys escaped twice (0.22.x and 0.23.x). */
export function escapesKeysTwice(version: string | undefined): boolean {
  return version !== undefined && /^v?0\.2[23](\.|$)/.test(version);
}

const ONCE: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
};

/** Undoes the second escaping of a 0.22–0.23 key; a backslash before anything else is kept as it is. */
export function unescapeKeyOnce(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    const next = raw[i + 1];
    if (c === '\\' && next !== undefined && ONCE[next] !== undefined) {
      out += ONCE[next];
      i++;
    } else {
      out += c;
    }
  }
  return out;
}
