// Kubernetes label selectors: the string form kubectl takes (`app=web,tier in (a,b),!canary`) into the object form
// a document stores (matchLabels, matchExpressions), and matching a set of labels against it.
import { KtraceError } from '@ktrace/parser';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

/** metav1.LabelSelector: every matchLabels pair and every expression must hold; empty matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

const keyPattern = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function bad(field: string, message: string): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_SPEC', message: `${field}: ${message}` });
}

function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  terms.push(current.trim());
  return terms.filter((t) => t !== '');
}

function checkKey(key: string, field: string): string {
  if (!keyPattern.test(key)) throw bad(field, `${JSON.stringify(key)} is not a label key (such as app or kubernetes.io/os)`);
  return key;
}

function checkValue(value: string, field: string): string {
  if (!valuePattern.test(value)) throw bad(field, `${JSON.stringify(value)} is not a label value (63 letters, digits, '-', '_' or '.')`);
  return value;
}

/** `a=b,c!=d,e in (x,y),f notin (z),g,!h` → LabelSelector. Throws KTRACE_BAD_SPEC naming `field`. */
export function parseLabelSelector(text: string, field = 'selector'): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: SelectorRequirement[] = [];
  for (const term of splitTerms(text)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term)) !== null) {
      const values = (m[3] ?? '').split(',').map((v) => checkValue(v.trim(), field));
      matchExpressions.push({ key: checkKey(m[1] ?? '', field), operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(term)) !== null) {
      matchExpressions.push({ key: checkKey(m[1] ?? '', field), operator: 'NotIn', values: [checkValue(m[2] ?? '', field)] });
    } else if ((m = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(term)) !== null) {
      matchLabels[checkKey(m[1] ?? '', field)] = checkValue(m[2] ?? '', field);
    } else if ((m = /^!\s*(\S+)$/.exec(term)) !== null) {
      matchExpressions.push({ key: checkKey(m[1] ?? '', field), operator: 'DoesNotExist' });
    } else if (/^\S+$/.test(term)) {
      matchExpressions.push({ key: checkKey(term, field), operator: 'Exists' });
    } else {
      throw bad(field, `cannot read ${JSON.stringify(term)}; write key=value, key!=value, key in (a,b), key notin (a,b), key or !key, separated by commas`);
    }
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

/** Checks a selector object as found in a document (fields, operators, values). Throws KTRACE_BAD_SPEC. */
export function checkLabelSelector(input: unknown, field: string): LabelSelector {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw bad(field, 'expected matchLabels and/or matchExpressions');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') throw bad(field, `unknown field ${JSON.stringify(key)} (expected matchLabels, matchExpressions)`);
  }
  const selector: LabelSelector = {};
  if (raw['matchLabels'] !== undefined) {
    const labels = raw['matchLabels'];
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) throw bad(`${field}.matchLabels`, 'expected a mapping of label keys to values');
    selector.matchLabels = {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') throw bad(`${field}.matchLabels`, `the value of ${k} must be a string`);
      selector.matchLabels[checkKey(k, `${field}.matchLabels`)] = checkValue(v, `${field}.matchLabels`);
    }
  }
  if (raw['matchExpressions'] !== undefined) {
    const list = raw['matchExpressions'];
    if (!Array.isArray(list)) throw bad(`${field}.matchExpressions`, 'expected a list');
    selector.matchExpressions = list.map((item: unknown, i) => {
      const where = `${field}.matchExpressions[${i}]`;
      const r = (item ?? {}) as Record<string, unknown>;
      const operator = r['operator'];
      if (operator !== 'In' && operator !== 'NotIn' && operator !== 'Exists' && operator !== 'DoesNotExist') {
        throw bad(where, 'operator must be In, NotIn, Exists or DoesNotExist');
      }
      const key = checkKey(String(r['key'] ?? ''), where);
      const values = r['values'];
      if (operator === 'In' || operator === 'NotIn') {
        if (!Array.isArray(values) || values.length === 0) throw bad(where, `${operator} needs a non-empty values list`);
        return { key, operator, values: values.map((v) => checkValue(String(v), where)) };
      }
      if (values !== undefined && (!Array.isArray(values) || values.length > 0)) throw bad(where, `${operator} takes no values`);
      return { key, operator };
    });
  }
  return selector;
}

export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/** Whether `labels` satisfy the selector. An empty or missing selector matches everything. */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const req of selector?.matchExpressions ?? []) {
    const value = have[req.key];
    switch (req.operator) {
      case 'In':
        if (value === undefined || !(req.values ?? []).includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && (req.values ?? []).includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** The kubectl string form, for display: `app=web,tier in (a,b)`. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const terms = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector?.matchExpressions ?? []) {
    if (req.operator === 'Exists') terms.push(req.key);
    else if (req.operator === 'DoesNotExist') terms.push(`!${req.key}`);
    else if (req.operator === 'NotIn' && req.values?.length === 1) terms.push(`${req.key}!=${req.values[0] ?? ''}`);
    else terms.push(`${req.key} ${req.operator === 'In' ? 'in' : 'notin'} (${(req.values ?? []).join(',')})`);
  }
  return terms.join(',');
}
