#!/usr/bin/env node
// The ktrace command line: argument parsing, rendering and exit codes over the SDK. No logic the SDK lacks.
// Start-up loads only commander and the command catalog; the command that runs is imported once it is known, so
// `ktrace --version`, `--help` and `parse` never load OpenTelemetry, zod, yaml or the Kubernetes client, and
// `--version` and `--help` not even the parser (the version has its own export; exit.ts loads on an error).
import { ktraceVersion } from '@ktrace/parser/version';
import { Command } from 'commander';
import { commands } from './commands/catalog.js';

const program = new Command('ktrace')
  .description('Run bpftrace programs continuously and serve their maps as Prometheus and OpenTelemetry metrics.')
  .version(ktraceVersion)
  .showHelpAfterError();
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

// A reader that goes away (`ktrace export … | head`) ends the output, not ktrace with a stack trace: exit quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const args = process.argv.slice(2);
// `ktrace help NAME` shows NAME's help: that command is the one to define in full.
const chosen = args[0] === 'help' ? args[1] : args[0];
try {
  for (const entry of commands) {
    const command = program.command(entry.name).description(entry.description);
    command.addHelpText('after', `\nExamples:\n${entry.examples.map((line) => `  $ ${line}`).join('\n')}\n`);
    if (entry.name === chosen) await entry.define(command, args);
  }
  await program.parseAsync(process.argv);
} catch (error) {
  (await import('./exit.js')).exitWith(error);
}
