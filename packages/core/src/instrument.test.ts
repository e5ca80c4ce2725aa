import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProgram } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { syscallsProgram } from './bundled-examples.js';
import { instrumentProgram } from './instrument.js';

function instrument(source: string, intervalMillis = 1000, exportMaps?: string[]) {
  return instrumentProgram({
    source,
    program: readProgram(source),
    intervalMillis,
    ...(exportMaps === undefined ? {} : { exportMaps }),
  });
}

describe('instrumentProgram', () => {
  it('prints the aggregation maps every interval and clears scratch maps at exit', () => {
    const out = instrument(syscallsProgram);
    expect(out.exported).toEqual(['@syscalls', '@syscall_latency_ns']);
    expect(out.clearedAtExit).toEqual(['@start']);
    expect(out.source.startsWith(syscallsProgram)).toBe(true);
    expect(out.source.slice(syscallsProgram.length)).toBe(
      'END { clear(@start); }\ninterval:s:1 { print(@syscalls); print(@syscall_latency_ns); }\n',
    );
  });

  it('uses interval:ms for sub-second intervals', () => {
    expect(instrument('profile:hz:99 { @s = count(); }', 250).source).toContain('interval:ms:250 { print(@s); }');
  });

  it('does not print again a map the program prints itself, and keeps its own END', () => {
    const source = [
      'tracepoint:raw_syscalls:sys_enter { @t[tid] = nsecs; @c[comm] = count(); @all = count(); }',
      'interval:s:5 { print(@c); clear(@c); }',
      '// print(@all) in a comment does not count',
      'END { printf("bye\\n"); }',
    ].join('\n');
    const out = instrument(source);
    expect(out.printedByProgram).toEqual(['@c']);
    expect(out.printedByKtrace).toEqual(['@all']);
    expect(out.source).toContain('END { printf("bye\\n");  clear(@t); }');
    expect(out.source.match(/END/g)).toHaveLength(1);
    expect(out.source).toContain('interval:s:1 { print(@all); }');
  });

  it('still prints every interval a map the program prints (and clears) only in BEGIN or END, like tools/syscount.bt', () => {
    const source = [
      '#include <linux/sched.h>',
      'BEGIN { printf("Counting syscalls...\\n"); print(@syscall); }',
      'tracepoint:raw_syscalls:sys_enter { @syscall[args->id] = count(); @process[comm] = count(); }',
      'END',
      '{',
      '  print(@syscall, 10); clear(@syscall);',
      '  print(@process, 10); clear(@process);',
      '}',
    ].join('\n');
    const out = instrument(source);
    expect(out.printedByProgram).toEqual([]);
    expect(out.printedByKtrace).toEqual(['@syscall', '@process']);
    expect(out.source).toContain('interval:s:1 { print(@syscall); print(@process); }');
    expect(
      readProgram(source)
        .maps.filter((m) => m.cleared)
        .map((m) => m.name),
    ).toEqual([]);
    const periodic =
      'interval:s:1, END { print(@a); clear(@a); } profile:hz:99 { @a = count(); @b = count(); } interval:s:5 { zero(@b); }';
    expect(
      readProgram(periodic)
        .maps.filter((m) => m.printed === true)
        .map((m) => m.name),
    ).toEqual(['@a']);
    expect(
      readProgram(periodic)
        .maps.filter((m) => m.cleared)
        .map((m) => m.name),
    ).toEqual(['@a']);
    expect(
      readProgram(periodic)
        .maps.filter((m) => m.clearedApart === true)
        .map((m) => m.name),
    ).toEqual(['@b']);
  });

  it("ends the last statement of the program's END when it has no semicolon, and adds none after one or a block", () => {
    const head = 'tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; @c = count(); }\n';
    expect(instrument(`${head}END { printf("bye\\n") // a comment; here\n}`).source).toContain(
      'END { printf("bye\\n") // a comment; here\n; clear(@start); }',
    );
    expect(instrument(`${head}END { printf("bye\\n"); }`).source).toContain(
      'END { printf("bye\\n");  clear(@start); }',
    );
    expect(instrument(`${head}END { if (1) { printf("}") } }`).source).toContain(
      'END { if (1) { printf("}") }  clear(@start); }',
    );
    expect(instrument(`${head}END {}`).source).toContain('END { clear(@start); }');
  });

  it('clears nothing in an END that shares its body with a periodic probe (it would wipe @start every 5 s)', () => {
    const source = [
      'tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; }',
      'tracepoint:raw_syscalls:sys_exit /@start[tid]/ { @lat = hist(nsecs - @start[tid]); delete(@start[tid]); }',
      'interval:s:5, END { print(@lat); }',
    ].join('\n');
    const out = instrument(source);
    expect(out.clearedAtExit).toEqual([]);
    expect(out.source).toBe(`${source}\n`);
  });

  it('adds no interval probe when the program prints every exported map', () => {
    const source = 'profile:hz:99 { @s = count(); } interval:s:1 { print(@s); }';
    expect(instrument(source).source).toBe(`${source}\n`);
  });

  it('rejects a program with no map and a spec naming a missing map', () => {
    expect(() => instrument('tracepoint:raw_syscalls:sys_enter { printf("%d\\n", tid); }')).toThrow(
      /the program has no maps, so there is nothing to export/,
    );
    expect(() => instrument('profile:hz:99 { @s = count(); }', 1000, ['@nope'])).toThrow(
      'map @nope is listed for export but the program has no such map (its maps: @s)',
    );
  });

  it('keeps examples/syscalls.bt identical to the program bundled in the package', () => {
    expect(readFileSync(join(import.meta.dirname, '../../../examples/syscalls.bt'), 'utf8')).toBe(syscallsProgram);
  });
});
