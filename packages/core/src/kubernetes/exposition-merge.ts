// One /metrics for many traces: merges Prometheus text expositions, each given constant labels (trace="name")
// on every sample, into one valid exposition: each family's HELP/TYPE once, its samples from every part together.
// A part's own label of the same name becomes exported_<name>, as Prometheus does with target labels.

export interface ExpositionPart {
  /** Added to every sample of this part, first in the label set. */
  labels: Record<string, string>;
  text: string;
}

export interface MergeResult {
  text: string;
  /** Families a part could not join because another part gave the same name another TYPE. */
  conflicts: string[];
}

interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  unit: string | undefined;
  samples: string[];
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** The label names of a sample line's label set, with the index just past its closing brace. */
function labelNames(line: string, open: number): { names: Array<{ name: string; at: number }>; end: number } {
  const names: Array<{ name: string; at: number }> = [];
  let i = open + 1;
  while (i < line.length && line[i] !== '}') {
    while (line[i] === ',' || line[i] === ' ') i++;
    if (line[i] === '}') break;
    const at = i;
    while (i < line.length && line[i] !== '=') i++;
    names.push({ name: line.slice(at, i).trim(), at });
    i += 2; // ="
    while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
    i++;
  }
  return { names, end: i + 1 };
}

/** A part's constant labels, written once: the text added to each sample, and their names. */
interface ConstantLabels {
  added: string;
  names: string[];
  /** `name="`, for each name: a sample that holds none of them cannot clash. */
  probes: string[];
}

function constantLabels(labels: Record<string, string>): ConstantLabels {
  const names = Object.keys(labels);
  return {
    added: names.map((k) => `${k}="${escapeValue(labels[k] as string)}"`).join(','),
    names,
    probes: names.map((k) => `${k}="`),
  };
}

/** The sample line `line`, whose metric name is `name`, with the constant labels first in its label set. */
function labelLine(line: string, name: string, constant: ConstantLabels): string {
  const { added } = constant;
  if (added === '') return line;
  let rest = line.slice(name.length);
  if (rest.startsWith('{')) {
    if (constant.probes.some((probe) => rest.includes(probe))) {
      const { names } = labelNames(rest, 0);
      // a sample's own label named like a constant one keeps its value as exported_<name>
      for (const { name: own, at } of [...names].reverse()) {
        if (constant.names.includes(own)) rest = `${rest.slice(0, at)}exported_${rest.slice(at)}`;
      }
    }
    return rest.startsWith('{}') ? `${name}{${added}}${rest.slice(2)}` : `${name}{${added},${rest.slice(1)}`;
  }
  return `${name}{${added}}${rest}`;
}

/** `name{a="b"} 1` + {trace: "t"} → `name{trace="t",a="b"} 1`. */
export function labelSample(line: string, labels: Record<string, string>): string {
  const match = namePattern.exec(line);
  if (match === null) return line;
  return labelLine(line, match[0], constantLabels(labels));
}

export function mergeExpositions(parts: ExpositionPart[]): MergeResult {
  const families = new Map<string, Family>();
  const conflicts = new Set<string>();
  for (const part of parts) {
    const constant = constantLabels(part.labels);
    let current: Family | undefined;
    let skip = false;
    const enter = (name: string): void => {
      if (current?.name === name) return;
      skip = false;
      current = families.get(name);
      if (current === undefined) {
        current = { name, help: undefined, type: undefined, unit: undefined, samples: [] };
        families.set(name, current);
      }
    };
    for (const line of part.text.split('\n')) {
      if (line === '' || line === '# EOF') continue;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
        if (m === null) continue;
        const [, what, name = '', value = ''] = m;
        enter(name);
        const family = current as Family;
        if (what === 'HELP') family.help ??= value;
        else if (what === 'UNIT') family.unit ??= value;
        else if (family.type === undefined) family.type = value;
        else if (family.type !== value) {
          skip = true;
          conflicts.add(name);
        }
        continue;
      }
      const sampleName = namePattern.exec(line)?.[0];
      if (sampleName === undefined) continue;
      const belongs =
        current !== undefined && (sampleName === current.name || sampleName.startsWith(`${current.name}_`));
      if (!belongs) enter(sampleName);
      if (skip) continue;
      (current as Family).samples.push(labelLine(line, sampleName, constant));
    }
  }
  // Joined, not built by +=: a rope of a million pieces costs more in the garbage collector than the merge itself.
  const lines: string[] = [];
  for (const family of families.values()) {
    if (family.samples.length === 0 && family.type === undefined) continue;
    if (family.help !== undefined) lines.push(`# HELP ${family.name} ${family.help}`);
    if (family.type !== undefined) lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.unit !== undefined) lines.push(`# UNIT ${family.name} ${family.unit}`);
    for (const sample of family.samples) lines.push(sample);
  }
  return { text: lines.length === 0 ? '' : `${lines.join('\n')}\n`, conflicts: [...conflicts] };
}
