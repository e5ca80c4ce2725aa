// `ktrace parse` (placeholder until its owner lands it).
import type { Command } from 'commander';

export function registerParse(program: Command): void {
  program.command('parse').description('not implemented yet').action(() => {
    throw new Error('ktrace parse is not implemented yet');
  });
}
