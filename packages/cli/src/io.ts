// What `ktrace parse` and `ktrace export` read (bpftrace output, the program that produced it) and write.
// A file that cannot be read is a usage error (exit 2) naming the file, the reason and what to give instead.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { KtraceError, readProgram } from '@ktrace/parser';
import type { ProgramInfo } from '@ktrace/parser';

export const FORMATS = ['auto', 'text', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function ioReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

export async function openInput(path: string, what: string, hint: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return handle;
  } catch (error) {
    throw new KtraceError({ code: 'KTRACE_BAD_INPUT', message: `cannot read ${what} "${path}": ${ioReason(error)}. ${hint}`, cause: error });
  }
}

export async function loadProgram(path: string): Promise<ProgramInfo> {
  const handle = await openInput(path, 'program file', 'Give the .bt file that produced the output, or leave out --program.');
  let source: string;
  try {
    source = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  try {
    return readProgram(source);
  } catch (error) {
    if (error instanceof KtraceError) throw new KtraceError({ code: error.code, message: `${path}: ${error.message}`, cause: error, ...(error.line === undefined ? {} : { line: error.line }), ...(error.column === undefined ? {} : { column: error.column }) });
    throw error;
  }
}

/** Writes to stdout, waiting when the pipe is full so a slow reader never makes us buffer the whole input. */
export async function writeOut(text: string): Promise<void> {
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}
