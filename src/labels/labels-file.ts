import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { LabelsError } from './labels-error.js';

/** GitHub's limits for a label (REST API `POST /repos/{owner}/{repo}/labels`). */
export const GITHUB_LABEL_LIMITS = { name: 50, description: 100 } as const;

export interface LabelSpec {
  name: string;
  /** Six hex digits, lower case, no '#'. */
  color: string;
  description: string;
  /** Former names: a repository label with one of these is renamed to `name`. */
  aliases: string[];
  line: number;
}

export interface LintFinding {
  file: string;
  line: number;
  column: number;
  rule: 'schema' | 'name-length' | 'description-length' | 'color' | 'duplicate' | 'emoji-only' | 'unknown-key';
  message: string;
}

export interface LabelsFile {
  file: string;
  labels: LabelSpec[];
  findings: LintFinding[];
}

const KEYS = new Set(['name', 'color', 'description', 'aliases']);
const COLOR = /^[0-9a-fA-F]{6}$/;

/** Reads a labels file from disk; throws FILE_UNREADABLE if it cannot be read. */
export function readLabelsFile(file: string): LabelsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LabelsError('FILE_UNREADABLE', `cannot read ${file}`, { cause });
  }
  return lintLabels(text, file);
}

/**
 * Parses and lints a labels file: a YAML sequence of { name, color, description, aliases? }.
 * Every finding carries the file, line and column of the offending node so an editor can jump to it.
 * `labels` holds only entries that parsed well enough to sync.
 */
export function lintLabels(text: string, file = '.github/labels.yml'): LabelsFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const findings: LintFinding[] = [];
  const at = (node: Node | null | undefined, fallbackOffset = 0) => {
    const pos = lc.linePos(node?.range?.[0] ?? fallbackOffset);
    return { line: pos.line, column: pos.col };
  };
  const add = (node: Node | null | undefined, rule: LintFinding['rule'], message: string) => findings.push({ file, ...at(node), rule, message });

  for (const err of doc.errors) {
    const pos = lc.linePos(err.pos[0]);
    findings.push({ file, line: pos.line, column: pos.col, rule: 'schema', message: `YAML: ${err.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) return { file, labels: [], findings };
  if (!isSeq(doc.contents)) {
    add(doc.contents, 'schema', 'the file must be a YAML list of labels');
    return { file, labels: [], findings };
  }

  const labels: LabelSpec[] = [];
  const seen = new Map<string, { name: string; line: number }>();
  const claim = (value: string, node: Node | null | undefined, what: string) => {
    const key = value.toLowerCase();
    const prior = seen.get(key);
    if (prior) add(node, 'duplicate', `${what} "${value}" duplicates "${prior.name}" (line ${prior.line}) ignoring case`);
    else seen.set(key, { name: value, line: at(node).line });
  };

  for (const item of doc.contents.items) {
    if (!isMap(item)) {
      add(item as Node, 'schema', 'each label is a mapping with name, color and description');
      continue;
    }
    const fields = new Map<string, Node | null>();
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!KEYS.has(key)) add(pair.key as Node, 'unknown-key', `unknown key "${key}" (allowed: name, color, description, aliases)`);
      fields.set(key, (pair.value as Node | null) ?? null);
    }
    const str = (key: string): string | undefined => {
      const n = fields.get(key);
      if (n === undefined) return undefined;
      if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
        add(n ?? item, 'schema', `${key} must be a string`);
        return undefined;
      }
      return String(n.value);
    };
    const name = str('name');
    const colorNode = fields.get('color');
    // A color such as 000001 or 123456 parses as a number in YAML; GitHub wants the six characters.
    const color = isScalar(colorNode) && colorNode.source !== undefined ? String(colorNode.source) : str('color');
    const description = str('description') ?? '';
    let ok = true;

    if (name === undefined || name.trim() === '') {
      if (!fields.has('name')) add(item, 'schema', 'a label needs a name');
      ok = false;
    } else {
      const nameNode = fields.get('name');
      if ([...name].length > GITHUB_LABEL_LIMITS.name) add(nameNode, 'name-length', `name "${name}" is ${[...name].length} characters; GitHub allows ${GITHUB_LABEL_LIMITS.name}`);
      if (isEmojiOnly(name)) add(nameNode, 'emoji-only', `name "${name}" is only emoji; give it words`);
      claim(name, nameNode, 'name');
    }
    if (color === undefined) {
      if (!fields.has('color')) add(item, 'color', 'a label needs a color (six hex digits)');
      ok = false;
    } else if (!COLOR.test(color)) {
      add(colorNode, 'color', `color "${color}" is not six hex digits${color.startsWith('#') ? ' (drop the #)' : ''}`);
      ok = false;
    }
    if ([...description].length > GITHUB_LABEL_LIMITS.description) {
      add(fields.get('description'), 'description-length', `description is ${[...description].length} characters; GitHub allows ${GITHUB_LABEL_LIMITS.description}`);
    }
    const aliases: string[] = [];
    const aliasNode = fields.get('aliases');
    if (aliasNode !== undefined) {
      if (!isSeq(aliasNode)) add(aliasNode ?? item, 'schema', 'aliases must be a list of names');
      else
        for (const a of aliasNode.items) {
          if (!isScalar(a) || typeof a.value !== 'string' || a.value.trim() === '') {
            add(a as Node, 'schema', 'an alias is a non-empty string');
            continue;
          }
          if ([...a.value].length > GITHUB_LABEL_LIMITS.name) add(a, 'name-length', `alias "${a.value}" is longer than ${GITHUB_LABEL_LIMITS.name} characters`);
          claim(a.value, a, 'alias');
          aliases.push(a.value);
        }
    }
    if (ok && name !== undefined && color !== undefined) {
      labels.push({ name, color: color.toLowerCase(), description, aliases, line: at(item).line });
    }
  }
  return { file, labels, findings };
}

/** True for names made only of emoji (pictographs, flags, keycaps, :shortcodes:) and spaces. */
export function isEmojiOnly(name: string): boolean {
  if (/^\s*(:[a-z0-9_+-]+:\s*)+$/i.test(name)) return true;
  const rest = name.replace(/\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}]|[\u{1F3FB}-\u{1F3FF}]|\u200d|\ufe0f|\u20e3|\s/gu, '');
  return rest.length === 0 && name.trim().length > 0;
}
