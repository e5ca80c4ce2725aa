#!/usr/bin/env node
// The ktrace command line: argument parsing, rendering and exit codes over the SDK. No logic the SDK lacks.
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
  .version('0.1.0')
  .showHelpAfterError();
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

// `ktrace run TARGET` (node/…, pod/…, deploy/…) runs once in the cluster; without TARGET, locally.
if (isRemoteRun(process.argv.slice(2))) registerRunRemote(program);
else {
  registerRun(program);
  program.commands.find((c) => c.name() === 'run')?.addHelpText('after', '\nWith a TARGET (node/NAME, pod/NAME[/CONTAINER], deploy/NAME) it runs once in the cluster: ktrace run TARGET --help.');
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
