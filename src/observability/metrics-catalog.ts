import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { ObservabilityError } from './observability-error.js';

/** The catalog shipped with the package; resolves the same from src/ and dist/. */
export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../../observability/prometheus/metrics.yaml', import.meta.url));

const NAME = /^duallane_[a-z][a-z0-9_]*$/;
const LABEL_NAME = /^[a-z][a-z0-9_]*$/;
const LABEL_VALUE = /^[a-z0-9][a-z0-9_.-]*$/;

const labelSchema = z
  .object({
    name: z.string().regex(LABEL_NAME, 'label names are lower snake case'),
    values: z.array(z.string().regex(LABEL_VALUE, 'label values are lower case, no spaces')).min(1).max(64).optional(),
    fallback: z.string().optional(),
    pattern: z.string().optional(),
  })
  .strict();

const metricSchema = z
  .object({
    name: z.string().regex(NAME, 'metric names start with duallane_ and are lower snake case'),
    type: z.enum(['counter', 'gauge', 'histogram']),
    help: z.string().min(10).max(200),
    labels: z.array(labelSchema).max(4),
    buckets: z.array(z.number().positive()).min(1).max(20).optional(),
  })
  .strict();

const catalogSchema = z.object({ version: z.literal(1), metrics: z.array(metricSchema).min(1) }).strict();

export type CatalogLabel = z.infer<typeof labelSchema>;
export type CatalogMetric = z.infer<typeof metricSchema>;
export interface MetricCatalog {
  version: 1;
  metrics: CatalogMetric[];
}
export interface CatalogProblem {
  path: string;
  message: string;
  /** 1-based line in the catalog file, when the problem came from a file. */
  line?: number;
}

/** Every problem in a parsed catalog, each with its path (`metrics[3].labels[0].values`). */
export function validateCatalog(doc: unknown): { catalog?: MetricCatalog; errors: CatalogProblem[] } {
  const parsed = catalogSchema.safeParse(doc);
  if (!parsed.success) {
    return { errors: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  }
  const errors: CatalogProblem[] = [];
  const seen = new Set<string>();
  parsed.data.metrics.forEach((m, i) => {
    const at = `metrics[${i}]`;
    if (seen.has(m.name)) errors.push({ path: `${at}.name`, message: `duplicate metric ${m.name}` });
    seen.add(m.name);
    if (m.type === 'counter' && !m.name.endsWith('_total')) errors.push({ path: `${at}.name`, message: 'counter names end in _total' });
    if (m.type !== 'counter' && m.name.endsWith('_total')) errors.push({ path: `${at}.name`, message: 'only counters end in _total' });
    if (m.type === 'histogram') {
      if (!m.buckets) errors.push({ path: `${at}.buckets`, message: 'histograms list their buckets' });
      else if (m.buckets.some((b, j) => j > 0 && b <= m.buckets![j - 1]!)) errors.push({ path: `${at}.buckets`, message: 'buckets increase strictly' });
    } else if (m.buckets) errors.push({ path: `${at}.buckets`, message: 'only histograms have buckets' });
    const labelNames = new Set<string>();
    m.labels.forEach((l, j) => {
      const lat = `${at}.labels[${j}]`;
      if (labelNames.has(l.name)) errors.push({ path: `${lat}.name`, message: `duplicate label ${l.name}` });
      labelNames.add(l.name);
      if (['le', 'quantile', 'job', 'instance'].includes(l.name)) errors.push({ path: `${lat}.name`, message: `label ${l.name} is reserved` });
      if (Boolean(l.values) === Boolean(l.pattern)) errors.push({ path: lat, message: 'a label has either values or a pattern' });
      if (l.pattern && !m.name.endsWith('_info')) errors.push({ path: `${lat}.pattern`, message: 'patterns are only for *_info metrics; list the values' });
      if (l.values && new Set(l.values).size !== l.values.length) errors.push({ path: `${lat}.values`, message: 'duplicate value' });
      if (l.fallback !== undefined && !l.values?.includes(l.fallback)) errors.push({ path: `${lat}.fallback`, message: 'the fallback must be one of the values' });
    });
  });
  return errors.length > 0 ? { errors } : { catalog: parsed.data, errors };
}

/** Reads and validates a catalog file; throws CATALOG_UNREADABLE or CATALOG_INVALID (with every problem). */
export function loadCatalog(path: string = DEFAULT_CATALOG_PATH): MetricCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ObservabilityError('CATALOG_UNREADABLE', `cannot read metric catalog ${path}`, { cause });
  }
  const lc = new LineCounter();
  const parsed = parseDocument(text, { lineCounter: lc });
  if (parsed.errors.length > 0) {
    const line = lc.linePos(parsed.errors[0]!.pos[0]).line;
    throw new ObservabilityError('CATALOG_INVALID', `${path}:${line}: not YAML`, { cause: parsed.errors[0] });
  }
  const { catalog, errors } = validateCatalog(parsed.toJS());
  if (!catalog) {
    // Report the line of the deepest node each path still reaches.
    for (const e of errors) {
      const keys = e.path.match(/[^.[\]]+/g)?.map((k) => (/^\d+$/.test(k) ? Number(k) : k)) ?? [];
      for (let n = keys.length; n >= 0; n--) {
        const node = parsed.getIn(keys.slice(0, n), true) as Node | undefined;
        if (node?.range) {
          e.line = lc.linePos(node.range[0]).line;
          break;
        }
      }
    }
    throw new ObservabilityError('CATALOG_INVALID', errors.map((e) => `${path}:${e.line ?? 1}: ${e.path}: ${e.message}`).join('; '), {
      details: { errors },
    });
  }
  return catalog;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}
