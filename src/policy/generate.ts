import { substituteAll, type EvalContext } from './variables.js';
import type { Resource } from './types.js';

/**
 * Kyverno generate rules, offline: `generate.data` builds the downstream resource from the rule
 * (variables substituted), `generate.clone` copies a source resource the test supplies
 * (`cloneSourceResource`). `cloneList`, synchronisation and foreach generation are not modelled.
 * Kyverno's own `generate.kyverno.io/*` and `app.kubernetes.io/managed-by` labels are never added,
 * matching how `kyverno test` strips them before comparing.
 */
export interface GenerateSpec {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  data?: Record<string, unknown>;
  clone?: { namespace?: string; name?: string };
  cloneList?: unknown;
  synchronize?: boolean;
}

export class GenerateError extends Error {}

export function generateResource(spec: GenerateSpec, ctx: EvalContext, cloneSources: Resource[] = []): Resource | undefined {
  const s = substituteAll({ ...spec, data: undefined }, ctx) as GenerateSpec;
  const data = spec.data === undefined ? undefined : (substituteAll(spec.data, ctx) as Record<string, unknown>);
  if (s.cloneList !== undefined) return undefined;
  let base: Record<string, unknown>;
  if (data !== undefined) base = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  else if (s.clone) {
    const src = cloneSources.find((r) => r.kind === s.kind && r.metadata?.name === s.clone!.name && (r.metadata?.namespace ?? '') === (s.clone!.namespace ?? ''))
      ?? cloneSources.find((r) => r.kind === s.kind && r.metadata?.name === s.clone!.name);
    if (!src) throw new GenerateError(`clone source ${s.kind} ${s.clone.namespace ?? ''}/${s.clone.name ?? ''} not found (give cloneSourceResource in the test)`);
    base = JSON.parse(JSON.stringify(src)) as Record<string, unknown>;
    const m = { ...((base['metadata'] as Record<string, unknown>) ?? {}) };
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'ownerReferences', 'generation', 'selfLink']) delete m[k];
    base['metadata'] = m;
  } else throw new GenerateError('generate needs data or clone');
  const meta = { ...((base['metadata'] as Record<string, unknown>) ?? {}) };
  meta['name'] = s.name;
  if (s.namespace) meta['namespace'] = s.namespace;
  else delete meta['namespace'];
  return { ...base, apiVersion: s.apiVersion, kind: s.kind, metadata: meta } as Resource;
}
