import { describe, expect, test } from 'vitest';
import { checkLabelSelector, formatLabelSelector, matchesLabelSelector, parseLabelSelector } from './label-selector.js';

describe('label selectors', () => {
  const node = { 'kubernetes.io/os': 'linux', pool: 'gpu', zone: 'a' };
  test.each([
    ['kubernetes.io/os=linux', true],
    ['kubernetes.io/os==linux,pool=gpu', true],
    ['pool!=gpu', false],
    ['pool in (cpu, gpu)', true],
    ['zone notin (a,b)', false],
    ['pool', true],
    ['!canary', true],
    ['!pool', false],
    ['pool in (cpu),zone=a', false],
    ['', true],
  ])('%s matches the node: %s', (text, want) => {
    const selector = parseLabelSelector(text, '--nodes');
    expect(matchesLabelSelector(selector, node)).toBe(want);
    // the string form reads back to the same selector
    expect(parseLabelSelector(formatLabelSelector(selector))).toEqual(selector);
  });

  test('bad selectors name the flag and the term', () => {
    expect(() => parseLabelSelector('a=b,c d', '--nodes')).toThrow(/--nodes: cannot read "c d"/);
    expect(() => parseLabelSelector('a=b c', '--pods')).toThrow(/--pods: "b c" is not a label value|--pods: cannot read/);
    expect(() => checkLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Has' }] }, 'spec.nodeSelector')).toThrow(
      'spec.nodeSelector.matchExpressions[0]: operator must be In, NotIn, Exists or DoesNotExist',
    );
    expect(() => checkLabelSelector({ matchLabel: {} }, 'spec.podSelector')).toThrow('spec.podSelector: unknown field "matchLabel"');
  });
});
