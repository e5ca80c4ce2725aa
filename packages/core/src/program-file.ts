// Reading what ktrace is given to run, bounded: a program file, a spec file, or inline program text is held to a
// size, must be UTF-8 text without NUL bytes, and an error names the file and the reason, never its contents.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { KtraceError } from '@ktrace/parser';
import type { KtraceErrorCode } from '@ktrace/parser';

/** The largest program ktrace runs (bpftrace itself takes minutes to compile programs far smaller). */
export const maxProgramBytes = 1024 * 1024;
/** The largest spec file ktrace reads. */
export const maxSpecBytes = 1024 * 1024;

function mib(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB`;
}

export interface ReadBoundedOptions {
  /** How the file is named in errors: `-f prog.bt`, `spec.programFile`, `trace spec`. */
  what: string;
  limit: number;
  code: KtraceErrorCode;
}

/** Reads at most `limit` bytes of text from `path` (a pipe works too: `-f <(…)`); more is an error, not a read. */
export function readBoundedText(path: string, options: ReadBoundedOptions): string {
  const fail = (reason: string, cause?: unknown): never => {
    throw new KtraceError({
      code: options.code,
      message: `${options.what}: cannot read ${path} (${reason})`,
      ...(cause === undefined ? {} : { cause }),
    });
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return fail((error as NodeJS.ErrnoException).code ?? String(error), error);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (fstatSync(fd).isDirectory()) fail('it is a directory');
    for (;;) {
      const chunk = Buffer.alloc(Math.min(65_536, options.limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        return fail(code ?? String(error), error);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > options.limit) fail(`larger than ${mib(options.limit)}, the most ktrace reads`);
    }
  } finally {
    closeSync(fd);
  }
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('not UTF-8 text');
  }
}

/** A program must be text: a NUL byte (a binary, /proc/self/environ) is refused with its position only. */
export function checkProgramText(text: string, what: string, code: KtraceErrorCode): void {
  if (Buffer.byteLength(text, 'utf8') > maxProgramBytes) {
    throw new KtraceError({
      code,
      message: `${what}: the program is larger than ${mib(maxProgramBytes)}, the most ktrace runs`,
    });
  }
  const nul = text.indexOf('\0');
  if (nul === -1) return;
  const before = text.slice(0, nul);
  const line = before.split('\n').length;
  const column = nul - before.lastIndexOf('\n');
  throw new KtraceError({
    code,
    message: `${what}: the program contains a NUL byte (line ${line}, column ${column}); a bpftrace program is text`,
  });
}

/**
 * The program file a spec names: a regular `.bt` file (its real path too, so a symlink cannot lead elsewhere),
 * bounded and checked like any program. A spec may come from someone who does not run ktrace; this keeps it from
 * making ktrace read, and bpftrace echo, files that are not programs.
 */
export function readSpecProgramFile(path: string): string {
  const what = 'spec.programFile';
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); the path is relative to the spec file`,
      cause: error,
    });
  }
  if (!path.endsWith('.bt') || !real.endsWith('.bt')) {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `${what}: ${path}${real === path ? '' : ` (${real})`} is not a .bt file; a spec's programFile names a bpftrace program file ending in .bt`,
    });
  }
  let regular = false;
  try {
    const fd = openSync(real, 'r');
    try {
      regular = fstatSync(fd).isFile();
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      cause: error,
    });
  }
  if (!regular) throw new KtraceError({ code: 'KTRACE_BAD_SPEC', message: `${what}: ${path} is not a regular file` });
  const text = readBoundedText(real, { what, limit: maxProgramBytes, code: 'KTRACE_BAD_SPEC' });
  checkProgramText(text, `${what} ${path}`, 'KTRACE_BAD_SPEC');
  return text;
}
