// `ktrace run` (placeholder until its owner lands it).
import type { Command } from 'commander';

export function registerRun(program: Command): void {
  program.command('run').description('not implemented yet').action(() => {
    throw new Error('ktrace run is not implemented yet');
  });
}
