import { readdir, stat } from 'node:fs/promises';
import { readBoundedText } from '../config/index.js';
import { join, extname } from 'node:path';
import jsYaml from 'js-yaml';
import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, isPair, type Document, type Node } from 'yaml';
import { MAX_NESTING_DEPTH, nestingExceeds } from './nesting.js';
import { PolicyError } from './policy-error.js';
import type { Policy, PolicyException, Resource } from './types.js';

/**
 * Reading policy, resource, test and values files. YAML is untrusted input: documents are parsed
 * without custom tags, size-capped, and each keeps its file and line for error reports.
 */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface LoadedDoc {
  file: string;
  /** 1-based line of the document start. */
  line: number;
  value: unknown;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export async function readText(file: string): Promise<string> {
  try {
    return await readBoundedText(file, { maxBytes: MAX_FILE_BYTES, what: 'policy file' });
  } catch (e) {
    throw new PolicyError('POLICY_UNREADABLE', (e as Error).message, { cause: e });
  }
}

export function parseYamlDocs(text: string, file: string): LoadedDoc[] {
  const lineCounter = new LineCounter();
  const docs = (() => {
    try {
      return parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
    } catch (e) {
      // The parser recurses per flow level; absurd nesting overflows it before any document exists.
      throw new PolicyError('POLICY_INVALID', `${file}: YAML error: ${e instanceof RangeError ? `nesting exceeds what can be parsed (limit ${MAX_NESTING_DEPTH} levels)` : (e as Error).message.split('\n')[0]}`, { cause: e, details: { file } });
    }
  })();
  const out: LoadedDoc[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = lineCounter.linePos(e.pos[0]);
      throw new PolicyError('POLICY_INVALID', `${file}:${pos.line}: YAML error: ${e.message.split('\n')[0]}`, { details: { file, line: pos.line } });
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const start = doc.contents?.range?.[0] ?? 0;
    out.push({ file, line: lineCounter.linePos(start).line, value, doc, lineCounter });
  }
  return out;
}

export async function loadYamlFile(file: string): Promise<LoadedDoc[]> {
  return parseYamlDocs(await readText(file), file);
}

/**
 * Values only, for bulk inputs (resources, test and values files), where no AST is needed: js-yaml
 * (YAML 1.2 core schema, no custom tags) parses ~8x faster than the AST-keeping parser. Policies keep
 * `parseYamlDocs` so that lint can point at lines. Errors carry file and line.
 */
export async function loadYamlValues(file: string): Promise<{ value: unknown; line: number }[]> {
  const text = await readText(file);
  const out: { value: unknown; line: number }[] = [];
  try {
    jsYaml.loadAll(text, (doc) => {
      if (doc !== null && doc !== undefined) out.push({ value: doc, line: 1 });
    }, { schema: jsYaml.CORE_SCHEMA, filename: file, json: true });
  } catch (e) {
    const line = ((e as { mark?: { line?: number } }).mark?.line ?? 0) + 1;
    throw new PolicyError('POLICY_INVALID', `${file}:${line}: YAML error: ${String((e as { reason?: string }).reason ?? (e as Error).message).split('\n')[0]}`, { cause: e, details: { file, line } });
  }
  return out;
}

/** Line of the node at `path` (keys and indices) within a parsed document; falls back to the deepest existing ancestor. */
export function lineOf(d: LoadedDoc, path: (string | number)[]): number {
  let node: Node | null | undefined = d.doc.contents as Node | null;
  let line = d.line;
  for (const seg of path) {
    if (!node) break;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (keyNode?.range) line = d.lineCounter.linePos(keyNode.range[0]).line;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      if (item.range) line = d.lineCounter.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return line;
}

export async function yamlFilesUnder(path: string): Promise<string[]> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw new PolicyError('POLICY_UNREADABLE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
  }
  if (!s.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFilesUnder(p)));
    else if (['.yaml', '.yml', '.json'].includes(extname(entry.name))) out.push(p);
  }
  return out;
}

export function isKyvernoPolicy(v: unknown): v is Policy {
  const o = v as Record<string, unknown> | null;
  return !!o && typeof o === 'object' && (o['kind'] === 'ClusterPolicy' || o['kind'] === 'Policy') && String(o['apiVersion'] ?? '').startsWith('kyverno.io/');
}

function assertPolicyShape(d: LoadedDoc): Policy {
  const p = d.value as Policy;
  if (nestingExceeds(p)) throw new PolicyError('POLICY_INVALID', `${d.file}:${d.line}: nesting exceeds ${MAX_NESTING_DEPTH} levels`, { details: { file: d.file, line: d.line } });
  if (!p.metadata || typeof p.metadata.name !== 'string' || !p.spec || !Array.isArray(p.spec.rules)) {
    throw new PolicyError('POLICY_INVALID', `${d.file}:${d.line}: ${p.kind} needs metadata.name and spec.rules`, { details: { file: d.file, line: d.line } });
  }
  return p;
}

/** Policies from files or directories (non-policy documents in directories are ignored). */
export async function loadPolicies(paths: string[]): Promise<{ policies: Policy[]; docs: LoadedDoc[] }> {
  const policies: Policy[] = [];
  const docs: LoadedDoc[] = [];
  for (const p of paths) {
    for (const f of await yamlFilesUnder(p)) {
      for (const d of await loadYamlFile(f)) {
        if (!isKyvernoPolicy(d.value)) continue;
        policies.push(assertPolicyShape(d));
        docs.push(d);
      }
    }
  }
  return { policies, docs };
}

/** PolicyException documents (kyverno.io/v2, v2beta1) from files or directories. */
export async function loadExceptions(paths: string[]): Promise<PolicyException[]> {
  const out: PolicyException[] = [];
  for (const p of paths) {
    for (const f of await yamlFilesUnder(p)) {
      for (const d of await loadYamlValues(f)) {
        const v = d.value as PolicyException;
        if (!v || v.kind !== 'PolicyException') continue;
        if (!v.spec || !Array.isArray(v.spec.exceptions) || !v.spec.match) throw new PolicyError('POLICY_INVALID', `${f}:${d.line}: PolicyException needs spec.exceptions and spec.match`);
        out.push(v);
      }
    }
  }
  return out;
}

/** Kubernetes resources from files or directories; `kind: List` is flattened; policies are skipped. */
export async function loadResources(paths: string[]): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const p of paths) {
    for (const f of await yamlFilesUnder(p)) {
      for (const d of await loadYamlValues(f)) {
        const v = d.value as Resource;
        if (typeof v !== 'object' || Array.isArray(v)) throw new PolicyError('RESOURCE_INVALID', `${f}:${d.line}: not a Kubernetes object`);
        if (nestingExceeds(v)) throw new PolicyError('RESOURCE_INVALID', `${f}:${d.line}: nesting exceeds ${MAX_NESTING_DEPTH} levels`);
        if (isKyvernoPolicy(v) || v.kind === 'PolicyException') continue;
        if (v.kind === 'List' && Array.isArray(v['items'])) {
          out.push(...(v['items'] as Resource[]));
          continue;
        }
        if (typeof v.kind !== 'string' || typeof v.apiVersion !== 'string') throw new PolicyError('RESOURCE_INVALID', `${f}:${d.line}: resource needs apiVersion and kind`);
        out.push(v);
      }
    }
  }
  return out;
}
