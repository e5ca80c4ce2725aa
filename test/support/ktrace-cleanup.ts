// A vitest setup file (test/vitest.config.ts): whatever ktrace process a test or a file's hooks started and left
// running is stopped after it, so a failing test never leaks a ktrace or its bpftrace into the next.
import { afterAll, afterEach, beforeEach } from 'vitest';
import { stopLeftRunning, testStarted } from './ktrace-process.js';

beforeEach(() => testStarted());
afterEach(() => stopLeftRunning('test'));
afterAll(() => stopLeftRunning('file'));
