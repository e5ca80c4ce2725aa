#!/usr/bin/env node
// The ktrace command line: argument parsing, rendering and exit codes over the SDK. No logic the SDK lacks.
import { ktraceVersion } from '@ktrace/parser';
import { Command } from 'commander';
import { registerAgent } from './commands/agent.js';
import { registerApply } from './commands/apply.js';
import { registerDelete } from './commands/delete.js';
import { registerExport } from './commands/export.js';
import { registerGet } from './commands/get.js';
import { registerInstall } from './commands/install.js';
import { registerParse } from './commands/parse.js';
import { registerLogs } from './commands/logs.js';
import { registerRun } from './commands/run.js';
import { isRemoteRun, registerRunRemote } from './commands/run-remote.js';
import { exitWith } from './exit.js';

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

// `ktrace run TARGET` (node/…, pod/…, deploy/…) runs once in the cluster; without TARGET, locally.
if (isRemoteRun(process.argv.slice(2))) registerRunRemote(program);
else {
  registerRun(program);
  program.commands
    .find((c) => c.name() === 'run')
    ?.addHelpText(
      'after',
      '\nWith a TARGET (node/NAME, pod/NAME[/CONTAINER], deploy/NAME) it runs once in the cluster: ktrace run TARGET --help.',
    );
}
registerParse(program);
registerExport(program);
registerApply(program);
registerGet(program);
registerDelete(program);
registerLogs(program);
registerAgent(program);
registerInstall(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  exitWith(error);
}
