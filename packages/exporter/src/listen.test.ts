import { describe, expect, it } from 'vitest';
import { listenWarning } from './http-server.js';

describe('listenWarning', () => {
  it('warns that 0.0.0.0:P, [::]:P and :P bind every interface, and says :P means 0.0.0.0', () => {
    expect(listenWarning('0.0.0.0:9464')).toBe(
      '--listen 0.0.0.0:9464 binds every network interface: /metrics and /healthz are reachable from other machines; give 127.0.0.1:9464 to serve this machine only',
    );
    expect(listenWarning('[::]:9464')).toContain('--listen [::]:9464 binds every network interface');
    expect(listenWarning(':9464')).toContain('--listen :9464 binds every network interface (no host means 0.0.0.0)');
  });

  it('says nothing for one interface', () => {
    expect(listenWarning('127.0.0.1:9464')).toBeUndefined();
    expect(listenWarning('[::1]:9464')).toBeUndefined();
    expect(listenWarning('localhost:0')).toBeUndefined();
  });
});
