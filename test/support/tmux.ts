// A terminal for tests that look at what a user sees: a detached tmux session on a private socket (no user config),
// its pane captured as text, keys sent as a user types them, the window resized. kill() ends the server and all in it.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { uniqueName } from './workload.js';

/** Single-quotes a word for the shell tmux runs the command with. */
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export class TmuxTerminal {
  readonly socket = uniqueName('ktrace-tmux');
  private readonly target = 'kt:0';

  /** Runs `command` in a `columns`×`rows` window; when it exits, the pane says `exited N` and stays open. */
  constructor(command: string[], size: { columns: number; rows: number }, cwd: string) {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('tmux is required by this test but is not installed (Debian: apt-get install tmux)');
    }
    const line = `${command.map(quote).join(' ')}; echo "exited $?"; sleep 3600`;
    this.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'kt',
      '-c',
      cwd,
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      line,
    );
  }

  private tmux(...args: string[]): string {
    // -u: UTF-8 whatever the locale says, so bars and '…' are captured as drawn.
    return execFileSync('tmux', ['-u', '-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The pane as text, one string per screen row (capture-pane drops trailing blanks of each row). */
  screen(): string[] {
    return this.tmux('capture-pane', '-p', '-t', this.target).replace(/\n$/, '').split('\n');
  }

  /** Keys in tmux's names: 'Tab', 'End', 'C-c', '3'. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.target, ...keys);
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', this.target, '-x', String(columns), '-y', String(rows));
  }

  kill(): void {
    try {
      // kill-server leaves the socket file behind.
      const socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
      this.tmux('kill-server');
      if (socketPath !== '') rmSync(socketPath, { force: true });
    } catch {
      // already gone
    }
  }
}
