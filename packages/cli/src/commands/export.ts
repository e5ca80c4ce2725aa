// `ktrace export` (placeholder until its owner lands it).
import type { Command } from 'commander';

export function registerExport(program: Command): void {
  program.command('export').description('not implemented yet').action(() => {
    throw new Error('ktrace export is not implemented yet');
  });
}
