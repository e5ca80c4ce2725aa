// UTF-8 decoding that keeps every byte: bpftrace prints keys (file names, comm, str()) as raw bytes, and two keys
// that differ only in invalid bytes must stay two keys. An invalid byte 0xHH becomes the lone surrogate U+DCHH
// (Python's "surrogateescape"); valid text, U+FFFD included, decodes as usual. The exporter escapes them visibly.

const fast = new TextDecoder('utf-8');

/** The lone surrogate standing for the undecodable byte `byte` (0x80–0xFF). */
export function escapedByte(byte: number): string {
  return String.fromCharCode(0xdc00 + byte);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts no valid sequence. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  const cont = (at: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = bytes[at];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** Decodes complete bytes: valid runs as UTF-8, each invalid byte as its lone surrogate. */
export function decodeKeepingBytes(bytes: Uint8Array): string {
  const text = fast.decode(bytes);
  if (text.indexOf('\ufffd') < 0) return text;
  let out = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    if (run < i) out += fast.decode(bytes.subarray(run, i));
    out += escapedByte(bytes[i] as number);
    i += 1;
    run = i;
  }
  if (run < bytes.length) out += fast.decode(bytes.subarray(run));
  return out;
}

/**
 * Where an unfinished multi-byte sequence starts at the end of `bytes` (a chunk cut inside a character), or
 * `bytes.length` when the chunk ends on a boundary. Only a prefix that could still become valid is held back.
 */
function completeEnd(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back] as number;
    if (b >= 0x80 && b <= 0xbf) continue;
    const need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 1;
    if (need <= back) return n;
    // The bytes seen so far must be a valid start; a padded copy tells.
    const probe = new Uint8Array(need);
    probe.set(bytes.subarray(n - back));
    for (let k = back; k < need; k++) probe[k] = 0x80;
    if (b === 0xe0 && back < 2) probe[1] = 0xa0;
    if (b === 0xf0 && back < 2) probe[1] = 0x90;
    return sequenceLength(probe, 0) === need ? n - back : n;
  }
  return n;
}

/** A streaming decoder: chunks may be cut anywhere, even inside a character. */
export class ByteKeepingDecoder {
  private carry: Uint8Array | undefined;

  decode(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.carry !== undefined) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
      this.carry = undefined;
    }
    const end = completeEnd(bytes);
    if (end < bytes.length) {
      this.carry = bytes.slice(end);
      bytes = bytes.subarray(0, end);
    }
    return bytes.length === 0 ? '' : decodeKeepingBytes(bytes);
  }

  /** End of input: a sequence left unfinished is kept byte by byte. */
  end(): string {
    const rest = this.carry;
    this.carry = undefined;
    return rest === undefined ? '' : decodeKeepingBytes(rest);
  }
}
