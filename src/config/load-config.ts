import { isAbsolute, join, resolve } from 'node:path';
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { readBoundedText } from './bounded-read.js';
import { ConfigError } from './config-error.js';
import { CONFIG_FILE_NAME, defaultConfig } from './defaults.js';
import { configFileSchema, type DuallaneConfig, type LaneConfig, type LaneKind } from './schema.js';

export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path into the document, e.g. `lanes[1].identity.kind`. */
  path: string;
  message: string;
}

export interface LoadConfigOptions {
  /** Explicit config file; default `<dir>/duallane.yaml`. */
  file?: string;
  /** When the file does not exist: use defaults (default) or fail with NOT_INITIALIZED. */
  requireFile?: boolean;
}

/** duallane.yaml is a few KiB; past this it is not a config file. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Loads `<dir>/duallane.yaml` (or built-in defaults when it does not exist). Every problem is
 * reported at once with file, line and path: a ConfigError CONFIG_INVALID whose message starts with
 * `file:line:col` of the first problem and whose details list all of them.
 */
export async function loadConfig(dir: string = process.cwd(), opts: LoadConfigOptions = {}): Promise<DuallaneConfig> {
  const root = resolve(dir);
  const file = opts.file ? resolve(root, opts.file) : join(root, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readBoundedText(file, { maxBytes: MAX_CONFIG_BYTES, what: 'config' });
  } catch (e) {
    const cause = (e as Error).cause ?? e;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && !opts.file) {
      if (!opts.requireFile) return defaultConfig(root);
      throw new ConfigError('NOT_INITIALIZED', `${root} has no ${CONFIG_FILE_NAME}: run \`duallane init --dir ${root}\` first (or give --dir the directory that holds it)`, { cause });
    }
    throw new ConfigError('CONFIG_UNREADABLE', (e as Error).message, { cause });
  }
  return { ...parseConfigText(text, file), root, file };
}

/** Parses and validates config text; `file` is used only in error positions. */
export function parseConfigText(text: string, file: string): z.infer<typeof configFileSchema> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, path: '', message: err.message.split('\n')[0] ?? 'YAML syntax error' });
  }
  if (problems.length === 0) {
    const parsed = configFileSchema.safeParse(doc.toJS() ?? {});
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) problems.push(...locateIssue(doc, lineCounter, file, issue));
  }
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  const first = problems[0]!;
  const rest = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new ConfigError('CONFIG_INVALID', `${first.file}:${first.line}:${first.col}: ${first.path ? first.path + ': ' : ''}${first.message}${rest}`, {
    details: { errors: problems },
  });
}

function locateIssue(doc: Document, lc: LineCounter, file: string, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const offset = keyOffset(doc, path, key) ?? nearestOffset(doc, path);
      const pos = lc.linePos(offset);
      return { file, line: pos.line, col: pos.col, path: formatPath([...path, key]), message: 'unknown key' };
    });
  }
  const pos = lc.linePos(nearestOffset(doc, path));
  return [{ file, line: pos.line, col: pos.col, path: formatPath(path), message: issue.message }];
}

/** Offset of the deepest node that exists along `path` (a missing key points at its parent). */
function nearestOffset(doc: Document, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyOffset(doc: Document, path: (string | number)[], key: string): number | undefined {
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(node)) return undefined;
  for (const item of node.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === key) return item.key.range?.[0];
  }
  return undefined;
}

export function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** The lane named `name`; ConfigError LANE_UNKNOWN otherwise. */
export function getLane(config: DuallaneConfig, name: string): LaneConfig {
  const lane = config.lanes.find((l) => l.name === name);
  if (!lane) {
    throw new ConfigError('LANE_UNKNOWN', `no lane named ${JSON.stringify(name)} (configured: ${config.lanes.map((l) => l.name).join(', ')})`);
  }
  return lane;
}

export function lanesOfKind(config: DuallaneConfig, kind: LaneKind): LaneConfig[] {
  return config.lanes.filter((l) => l.kind === kind);
}

/** Resolves a path from the config (relative to its directory). */
export function resolveConfigPath(config: Pick<DuallaneConfig, 'root'>, p: string): string {
  return isAbsolute(p) ? p : join(config.root, p);
}

