import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const LOCAL_BUILD_TYPE = 'https://duallane.dev/buildtypes/local/v1';
export const GITHUB_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
export const LOCAL_BUILDER_ID = 'https://duallane.dev/builders/local@v1';

export interface SourceInfo {
  /** `git+https://host/org/repo` form, as SLSA and slsa-verifier write it. */
  uri: string;
  ref?: string;
  commit?: string;
}

export interface ProvenanceOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  startedOn?: Date;
  finishedOn?: Date;
  builderId?: string;
}

/**
 * Generates a SLSA Provenance v1 predicate from where we run: the GitHub Actions variables when
 * present (GITHUB_ACTIONS=true), else the git checkout in `cwd`. Only facts we can observe are
 * recorded; a missing fact is omitted, never invented.
 */
export async function provenanceFromEnvironment(opts: ProvenanceOptions = {}): Promise<Record<string, unknown>> {
  const env = opts.env ?? process.env;
  const startedOn = opts.startedOn ?? new Date();
  const gha = env.GITHUB_ACTIONS === 'true' && env.GITHUB_REPOSITORY;
  let source: SourceInfo | undefined;
  let builderId: string;
  let buildType: string;
  let invocationId: string;
  let externalParameters: Record<string, unknown>;
  if (gha) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    const repoUrl = `${server}/${env.GITHUB_REPOSITORY}`;
    source = { uri: `git+${repoUrl}@${env.GITHUB_REF ?? ''}`, ref: env.GITHUB_REF, commit: env.GITHUB_SHA };
    // The builder is the workflow file at its ref: what a verifier pins with --builder-id.
    builderId = opts.builderId ?? (env.GITHUB_WORKFLOW_REF ? `${server}/${env.GITHUB_WORKFLOW_REF}` : `${repoUrl}/.github/workflows`);
    buildType = GITHUB_BUILD_TYPE;
    invocationId = `${repoUrl}/actions/runs/${env.GITHUB_RUN_ID ?? '0'}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
    const workflowPath = env.GITHUB_WORKFLOW_REF?.split('@')[0]?.split('/').slice(2).join('/');
    externalParameters = {
      workflow: { ref: env.GITHUB_REF, repository: repoUrl, ...(workflowPath ? { path: workflowPath } : {}) },
      source: { uri: source.uri, ref: source.ref, commit: source.commit },
    };
  } else {
    source = await gitSource(opts.cwd ?? process.cwd());
    builderId = opts.builderId ?? LOCAL_BUILDER_ID;
    buildType = LOCAL_BUILD_TYPE;
    invocationId = `urn:uuid:${randomUUID()}`;
    externalParameters = source ? { source: { uri: source.uri, ref: source.ref, commit: source.commit } } : {};
  }
  const resolvedDependencies = source?.commit ? [{ uri: source.uri, digest: { gitCommit: source.commit } }] : [];
  return {
    buildDefinition: { buildType, externalParameters, internalParameters: {}, resolvedDependencies },
    runDetails: {
      builder: { id: builderId },
      metadata: { invocationId, startedOn: startedOn.toISOString(), finishedOn: (opts.finishedOn ?? new Date()).toISOString() },
    },
  };
}

async function gitSource(cwd: string): Promise<SourceInfo | undefined> {
  const git = async (...args: string[]) => {
    try {
      return (await run('git', args, { cwd, timeout: 10_000 })).stdout.trim();
    } catch {
      return undefined;
    }
  };
  const commit = await git('rev-parse', 'HEAD');
  if (!commit) return undefined;
  const remote = (await git('remote', 'get-url', 'origin')) ?? `file://${cwd}`;
  const ref = await git('symbolic-ref', '-q', 'HEAD');
  return { uri: `git+${normalizeRemote(remote)}${ref ? `@${ref}` : ''}`, ref, commit };
}

/** `git@github.com:org/repo.git` → `https://github.com/org/repo`; credentials in URLs are dropped. */
function normalizeRemote(remote: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(remote);
  let url = scp ? `https://${scp[1]}/${scp[2]}` : remote;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    url = u.toString();
  } catch {
    /* not a URL (a local path): keep it */
  }
  return url.replace(/\.git$/, '').replace(/\/$/, '');
}
