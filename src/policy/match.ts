import type { LabelSelector, MatchResources, RequestInfo, Resource, ResourceDescription, ResourceFilter } from './types.js';
import { wildcardMatch, hasWildcard } from './wildcard.js';

/**
 * Rule match/exclude (Kyverno MatchesResourceDescription): `any` (one filter suffices), `all` (every
 * filter), or the legacy single block; each block is the AND of the fields it sets.
 */

/** Kyverno kubeutils.ParseKindSelector: Kind | version/Kind | Kind/sub | group/version/Kind | version/Kind/sub | g/v/Kind/sub. */
const kindCache = new Map<string, { group: string; version: string; kind: string; subresource: string }>();

export function parseKindSelector(input: string): { group: string; version: string; kind: string; subresource: string } {
  let hit = kindCache.get(input);
  if (!hit) {
    hit = parseKindSelectorUncached(input);
    if (kindCache.size > 1000) kindCache.clear();
    kindCache.set(input, hit);
  }
  return hit;
}

function parseKindSelectorUncached(input: string): { group: string; version: string; kind: string; subresource: string } {
  const parts = input.split('/');
  const upper = (s: string | undefined) => !!s && /^[A-Z]/.test(s);
  switch (parts.length) {
    case 1:
      return { group: '*', version: '*', kind: parts[0]!, subresource: '' };
    case 2:
      if (upper(parts[0])) return { group: '*', version: '*', kind: parts[0]!, subresource: parts[1]! };
      return { group: '*', version: parts[0]!, kind: parts[1]!, subresource: '' };
    case 3:
      if (upper(parts[1])) return { group: '*', version: parts[0]!, kind: parts[1]!, subresource: parts[2]! };
      return { group: parts[0]!, version: parts[1]!, kind: parts[2]!, subresource: '' };
    default:
      return { group: parts[0]!, version: parts[1]!, kind: parts[2]!, subresource: parts[3] ?? '' };
  }
}

export function gvkOf(resource: Resource): { group: string; version: string; kind: string } {
  const av = String(resource.apiVersion ?? '');
  const i = av.indexOf('/');
  return { group: i < 0 ? '' : av.slice(0, i), version: i < 0 ? av : av.slice(i + 1), kind: String(resource.kind ?? '') };
}

export function kindMatches(kinds: string[], resource: Resource): boolean {
  const gvk = gvkOf(resource);
  return kinds.some((k) => {
    const sel = parseKindSelector(k);
    if (sel.subresource !== '') return false;
    return wildcardMatch(sel.group, gvk.group) && wildcardMatch(sel.version, gvk.version) && wildcardMatch(sel.kind, gvk.kind);
  });
}

export function selectorMatches(selector: LabelSelector, labelsIn: Record<string, string> | undefined): boolean {
  const labels = labelsIn ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (hasWildcard(k) || hasWildcard(String(v))) {
      if (!Object.entries(labels).some(([lk, lv]) => wildcardMatch(k, lk) && wildcardMatch(String(v), lv))) return false;
    } else if (labels[k] !== String(v)) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = (e.values ?? []).map(String);
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isEmptyFilter(f: ResourceFilter): boolean {
  const rd = f.resources ?? {};
  const rdEmpty = Object.values(rd).every((v) => v === undefined || (Array.isArray(v) && v.length === 0) || v === '');
  return rdEmpty && !f.roles?.length && !f.clusterRoles?.length && !f.subjects?.length;
}

/** Every set field of the block must hold. */
function blockMatches(f: ResourceFilter, resource: Resource, req: RequestInfo): boolean {
  const rd: ResourceDescription = f.resources ?? {};
  const meta = resource.metadata ?? {};
  const name = String(meta.name ?? '');
  if (rd.kinds && rd.kinds.length > 0 && !kindMatches(rd.kinds, resource)) return false;
  if (rd.name && !wildcardMatch(rd.name, name)) return false;
  if (rd.names && rd.names.length > 0 && !rd.names.some((n) => wildcardMatch(n, name))) return false;
  if (rd.namespaces && rd.namespaces.length > 0) {
    const ns = resource.kind === 'Namespace' ? name : String(meta.namespace ?? '');
    if (!rd.namespaces.some((n) => wildcardMatch(n, ns))) return false;
  }
  if (rd.annotations) {
    const ann = meta.annotations ?? {};
    for (const [k, v] of Object.entries(rd.annotations)) {
      if (!Object.entries(ann).some(([ak, av]) => wildcardMatch(k, ak) && wildcardMatch(String(v), String(av)))) return false;
    }
  }
  if (rd.selector && !selectorMatches(rd.selector, meta.labels)) return false;
  if (rd.namespaceSelector) {
    const labels = resource.kind === 'Namespace' ? meta.labels : req.namespaceLabels;
    if (!selectorMatches(rd.namespaceSelector, labels)) return false;
  }
  if (rd.operations && rd.operations.length > 0 && !rd.operations.includes(req.operation ?? 'CREATE')) return false;
  if (f.roles && f.roles.length > 0 && !f.roles.some((r) => (req.roles ?? []).includes(r))) return false;
  if (f.clusterRoles && f.clusterRoles.length > 0 && !f.clusterRoles.some((r) => (req.clusterRoles ?? []).includes(r))) return false;
  if (f.subjects && f.subjects.length > 0) {
    const user = req.userInfo?.username ?? '';
    const groups = req.userInfo?.groups ?? [];
    const ok = f.subjects.some((s) => {
      if (s.kind === 'User') return wildcardMatch(s.name, user);
      if (s.kind === 'Group') return groups.some((g) => wildcardMatch(s.name, g));
      if (s.kind === 'ServiceAccount') return user === `system:serviceaccount:${s.namespace ?? ''}:${s.name}`;
      return false;
    });
    if (!ok) return false;
  }
  return true;
}

function legacyBlock(m: MatchResources): ResourceFilter {
  return { resources: m.resources, roles: m.roles, clusterRoles: m.clusterRoles, subjects: m.subjects };
}

export function ruleMatches(match: MatchResources | undefined, exclude: MatchResources | undefined, resource: Resource, req: RequestInfo): boolean {
  if (!match) return false;
  if (match.any && match.any.length > 0) {
    if (!match.any.some((f) => !isEmptyFilter(f) && blockMatches(f, resource, req))) return false;
  } else if (match.all && match.all.length > 0) {
    if (!match.all.every((f) => !isEmptyFilter(f) && blockMatches(f, resource, req))) return false;
  } else {
    const b = legacyBlock(match);
    if (isEmptyFilter(b) || !blockMatches(b, resource, req)) return false;
  }
  if (!exclude) return true;
  if (exclude.any && exclude.any.length > 0) {
    if (exclude.any.some((f) => !isEmptyFilter(f) && blockMatches(f, resource, req))) return false;
  } else if (exclude.all && exclude.all.length > 0) {
    if (exclude.all.every((f) => !isEmptyFilter(f) && blockMatches(f, resource, req))) return false;
  } else {
    const b = legacyBlock(exclude);
    if (!isEmptyFilter(b) && blockMatches(b, resource, req)) return false;
  }
  return true;
}
