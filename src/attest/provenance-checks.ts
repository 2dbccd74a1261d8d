import { AttestError } from './attest-error.js';
import { SLSA_PROVENANCE_V1, type Statement } from './statement.js';

/** What a verifier demands of a statement's predicate. Every field is optional; set means required. */
export interface ProvenanceExpectations {
  predicateType?: string;
  /** Exact builder id, or `id` without `@ref` to accept any ref, or `id@refs/tags/*` to require a tag. */
  builderId?: string;
  /** Source repository: `github.com/org/repo`, `https://github.com/org/repo` or `git+https://...`. */
  sourceUri?: string;
  sourceRef?: string;
}

/**
 * Matches an identity-with-ref (a builder id or a Fulcio Build Signer URI) the way slsa-verifier does:
 * `expected` without `@` pins the identity and accepts any ref; with `@ref` the ref must be equal, and a
 * trailing `*` in the expected ref is a prefix match (`@refs/tags/*` = any tag, never a branch).
 */
export function matchesIdentityWithRef(actual: string, expected: string): boolean {
  const [actualId, actualRef] = splitAtRef(actual);
  const [expectedId, expectedRef] = splitAtRef(expected);
  if (actualId !== expectedId) return false;
  if (expectedRef === undefined) return true;
  if (actualRef === undefined) return false;
  if (expectedRef.endsWith('*')) return actualRef.startsWith(expectedRef.slice(0, -1));
  return actualRef === expectedRef;
}

function splitAtRef(s: string): [string, string | undefined] {
  // Only an '@' inside the path separates a ref; one in the authority (user@host) does not.
  const schemeEnd = s.indexOf('://');
  const pathStart = s.indexOf('/', schemeEnd >= 0 ? schemeEnd + 3 : 0);
  const i = s.lastIndexOf('@');
  if (i < 0 || (pathStart >= 0 && i < pathStart)) return [s, undefined];
  return [s.slice(0, i), s.slice(i + 1)];
}

/** `git+https://github.com/Org/Repo.git@refs/heads/main` → `github.com/org/repo`. */
export function normalizeRepoUri(uri: string): string {
  const [withoutRef] = splitAtRef(uri.trim().replace(/^git\+/, ''));
  return withoutRef
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function get(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The source a SLSA v1 predicate claims: externalParameters.source, else the first git dependency. */
export function sourceOf(statement: Statement): { uri?: string; ref?: string } {
  const p = statement.predicate;
  const src = get(p, ['buildDefinition', 'externalParameters', 'source']);
  const workflow = get(p, ['buildDefinition', 'externalParameters', 'workflow']);
  const deps = get(p, ['buildDefinition', 'resolvedDependencies']);
  const dep = Array.isArray(deps) ? deps.find((d) => typeof get(d, ['uri']) === 'string' && String(get(d, ['uri'])).startsWith('git+')) : undefined;
  const uri = (get(src, ['uri']) ?? get(workflow, ['repository']) ?? get(dep, ['uri'])) as unknown;
  const ref = (get(src, ['ref']) ?? get(workflow, ['ref'])) as unknown;
  let refFromUri: string | undefined;
  if (typeof uri === 'string') {
    const m = /@(refs\/[^@]+)$/.exec(uri);
    refFromUri = m?.[1];
  }
  return {
    uri: typeof uri === 'string' ? uri : undefined,
    ref: typeof ref === 'string' && ref.length > 0 ? ref : refFromUri,
  };
}

export function checkProvenance(statement: Statement, want: ProvenanceExpectations): void {
  if (want.predicateType !== undefined && statement.predicateType !== want.predicateType) {
    throw new AttestError('PREDICATE_TYPE_MISMATCH', `predicate type is ${JSON.stringify(statement.predicateType)}, expected ${JSON.stringify(want.predicateType)}`);
  }
  const needsSlsa = want.builderId !== undefined || want.sourceUri !== undefined || want.sourceRef !== undefined;
  if (needsSlsa && statement.predicateType !== SLSA_PROVENANCE_V1) {
    throw new AttestError('PREDICATE_TYPE_MISMATCH', `builder and source checks need a ${SLSA_PROVENANCE_V1} predicate, got ${JSON.stringify(statement.predicateType)}`);
  }
  if (want.builderId !== undefined) {
    const builder = get(statement.predicate, ['runDetails', 'builder', 'id']);
    if (typeof builder !== 'string' || !matchesIdentityWithRef(builder, want.builderId)) {
      throw new AttestError('BUILDER_MISMATCH', `builder ${JSON.stringify(builder ?? null)} does not match ${JSON.stringify(want.builderId)}`);
    }
  }
  if (want.sourceUri !== undefined || want.sourceRef !== undefined) {
    const src = sourceOf(statement);
    if (want.sourceUri !== undefined && (src.uri === undefined || normalizeRepoUri(src.uri) !== normalizeRepoUri(want.sourceUri))) {
      throw new AttestError('SOURCE_MISMATCH', `source ${JSON.stringify(src.uri ?? null)} is not ${JSON.stringify(want.sourceUri)}`);
    }
    if (want.sourceRef !== undefined && src.ref !== want.sourceRef) {
      throw new AttestError('SOURCE_MISMATCH', `source ref ${JSON.stringify(src.ref ?? null)} is not ${JSON.stringify(want.sourceRef)}`);
    }
  }
}
