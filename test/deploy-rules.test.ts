// The Prometheus rules in deploy/prometheus: the real promtool accepts them and their unit tests pass, every
// alert carries what an on-call person needs (for, severity, summary, description, its section of docs/runbooks.md),
// every alert has a unit test that fires it and one that keeps it quiet, and deploy/README.md explains each alert.
// promtool runs on every Prometheus release of support/versions.ts (2.42 and 3.5: 3.0 made range selectors left-open).

import { execFile } from 'node:child_process';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { prometheusReleases } from './support/versions.js';
import type { PrometheusRelease } from './support/versions.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RULES_DIR = join(ROOT, 'deploy', 'prometheus');
const TESTS_DIR = join(RULES_DIR, 'tests');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertRuleTest {
  alertname: string;
  exp_alerts?: unknown[];
}
interface UnitTestFile {
  tests: Array<{ alert_rule_test?: AlertRuleTest[] }>;
}
interface PromtoolResult {
  code: number;
  output: string;
}

function promtool(binary: string, args: string[]): Promise<PromtoolResult> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function yamlFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'));
  return names.sort().map((name) => join(dir, name));
}

let ruleFiles: string[] = [];
let unitTestFiles: string[] = [];
const alerts: Rule[] = [];

beforeAll(async () => {
  for (const release of prometheusReleases()) {
    try {
      await access(release.promtool, constants.X_OK);
    } catch {
      throw new Error(
        `promtool ${release.name} is required by this test but ${release.promtool} is missing or not executable: run scripts/versions.sh`,
      );
    }
  }
  ruleFiles = await yamlFiles(RULES_DIR);
  unitTestFiles = await yamlFiles(TESTS_DIR);
  for (const file of ruleFiles) {
    const parsed = parse(await readFile(file, 'utf8')) as RuleFile;
    for (const group of parsed.groups) alerts.push(...group.rules.filter((rule) => rule.alert !== undefined));
  }
});

describe('deploy/prometheus rules', () => {
  it('has rule files, unit test files and alerts to check', () => {
    expect(ruleFiles.map((file) => file.slice(RULES_DIR.length + 1))).toEqual([
      'ktrace-alerts.yml',
      'ktrace-recording-rules.yml',
    ]);
    expect(unitTestFiles.length).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThanOrEqual(5);
  });

  it('gives every alert a for, a severity and a summary and description', () => {
    for (const alert of alerts) {
      const where = `alert ${alert.alert}`;
      expect(alert.for, `${where} has no "for"`).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], `${where} severity`).toContain(alert.labels?.['severity']);
      expect(alert.annotations?.['summary']?.trim().length ?? 0, `${where} summary`).toBeGreaterThan(10);
      // A description says what to do, so it is more than a restated summary.
      expect(alert.annotations?.['description']?.trim().length ?? 0, `${where} description`).toBeGreaterThan(80);
    }
  });

  it('covers every alert with a unit test that fires it and one that keeps it quiet', async () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of unitTestFiles) {
      const parsed = parse(await readFile(file, 'utf8')) as UnitTestFile;
      for (const test of parsed.tests) {
        for (const check of test.alert_rule_test ?? []) {
          if ((check.exp_alerts ?? []).length > 0) firing.add(check.alertname);
          else quiet.add(check.alertname);
        }
      }
    }
    const names = alerts.map((alert) => alert.alert ?? '');
    expect(
      names.filter((name) => !firing.has(name)),
      'alerts never tested firing',
    ).toEqual([]);
    expect(
      names.filter((name) => !quiet.has(name)),
      'alerts never tested quiet',
    ).toEqual([]);
  });

  it('links every alert to its own section of docs/runbooks.md, and every section there to an alert', async () => {
    const runbooks = await readFile(join(ROOT, 'docs', 'runbooks.md'), 'utf8');
    // GitHub's anchor of a heading: lower case, spaces to dashes, punctuation dropped.
    const anchors = [...runbooks.matchAll(/^## (.+)$/gm)].map(([, heading = '']) =>
      heading
        .toLowerCase()
        .replace(/[^\w\s-]/g, '')
        .replace(/\s/g, '-'),
    );
    const names = alerts.map((alert) => alert.alert ?? '');
    for (const alert of alerts) {
      expect(alert.annotations?.['runbook_url'], `alert ${alert.alert} runbook_url`).toBe(
        `docs/runbooks.md#${alert.alert?.toLowerCase()}`,
      );
    }
    expect(anchors).toEqual(names.map((name) => name.toLowerCase()));
  });

  it('explains every alert in deploy/README.md', async () => {
    const readme = await readFile(join(ROOT, 'deploy', 'README.md'), 'utf8');
    const missing = alerts.map((alert) => alert.alert ?? '').filter((name) => !readme.includes(name));
    expect(missing, 'alerts not described in deploy/README.md').toEqual([]);
  });
});

describe.each(prometheusReleases().map((r) => [r.name, r] as [string, PrometheusRelease]))(
  'deploy/prometheus rules on promtool %s',
  (_name, release) => {
    it('passes promtool check rules', async () => {
      const result = await promtool(release.promtool, ['check', 'rules', ...ruleFiles]);
      expect(result.output).not.toMatch(/FAILED/);
      expect(result.code, result.output).toBe(0);
      expect(result.output.match(/SUCCESS/g)?.length).toBe(ruleFiles.length);
    });

    it('passes promtool test rules', async () => {
      const result = await promtool(release.promtool, ['test', 'rules', ...unitTestFiles]);
      expect(result.code, result.output).toBe(0);
      expect(result.output.match(/SUCCESS/g)?.length, result.output).toBe(unitTestFiles.length);
    });
  },
);
