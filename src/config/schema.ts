import { z } from 'zod';

/**
 * The duallane.yaml schema. Every object is strict: an unknown key is a typo until proven otherwise,
 * and a typo in a security setting (say `allowWorkflow: false`) must not silently fall back to a default.
 */

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const LANE_RE = /^[a-z][a-z0-9-]{0,62}$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

export const keyIdentitySchema = z.strictObject({
  kind: z.literal('key'),
  /** PKCS#8 PEM private key, relative to the config directory; must be mode 0600. */
  privateKey: z.string().min(1),
  /** SPKI PEM public key the other lane trusts. */
  publicKey: z.string().min(1),
});

export const keylessIdentitySchema = z.strictObject({
  kind: z.literal('keyless'),
  /** OIDC issuer of the Fulcio certificate, e.g. https://token.actions.githubusercontent.com */
  issuer: z.url(),
  /** Exact certificate identity (SAN), e.g. a workflow ref or an e-mail address. */
  subject: z.string().min(1),
});

export const identitySchema = z.discriminatedUnion('kind', [keyIdentitySchema, keylessIdentitySchema]);

const permissionLevel = z.enum(['none', 'read', 'write']);

export const githubSchema = z.strictObject({
  /** Name of the environment variable holding this lane's token (never the token itself). */
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('GITHUB_TOKEN'),
  /** The most this lane's token may hold; `creds check` reports anything above it. */
  permissions: z
    .strictObject({
      contents: permissionLevel.default('read'),
      pullRequests: permissionLevel.default('read'),
      issues: permissionLevel.default('read'),
      workflows: permissionLevel.default('none'),
      administration: permissionLevel.default('none'),
    })
    .prefault({}),
});

/** A repository-relative glob: never absolute, never climbing out with `..`. */
const repoGlob = z
  .string()
  .min(1)
  .refine((g) => !g.startsWith('/') && !g.split('/').includes('..'), 'must be a repository-relative glob (no leading /, no ..)');

/**
 * Paths CI runs, or that tell CI what to run, by default. A change to one is a change to what runs with
 * CI's credentials (a credential escalation), so it is `WORKFLOW_CHANGE` unless `allowWorkflows`.
 * In: GitHub Actions workflows and actions (`.github/actions/**` and any directory holding an
 * `action.yml`, which `uses: ./path` runs), Dependabot's configuration (which registries it logs in to
 * with which secrets), and the pipeline files of GitLab, CircleCI, Jenkins, Buildkite, Azure
 * Pipelines, Travis CI and Bitbucket Pipelines. Out: files CI runs only because a workflow calls them
 * (`Makefile`, `package.json` scripts, `.pre-commit-config.yaml`, test files): guarding those alone
 * would promise what it cannot keep, since every source file a build compiles or a test imports runs
 * in CI too. A repository whose privileged jobs run such a file lists it in `scope.ciPaths`.
 */
export const DEFAULT_CI_PATHS: readonly string[] = [
  '.github/workflows/**',
  '.github/actions/**',
  '**/action.yml',
  '**/action.yaml',
  '.github/dependabot.yml',
  '.github/dependabot.yaml',
  '.gitlab-ci.yml',
  '.gitlab/**',
  '.circleci/**',
  '**/Jenkinsfile',
  '.buildkite/**',
  'azure-pipelines.yml',
  'azure-pipelines.yaml',
  '.travis.yml',
  'bitbucket-pipelines.yml',
];

export const scopeSchema = z.strictObject({
  /** Paths a proposal may touch (picomatch globs, relative to the repository root). */
  allowed: z.array(repoGlob).default(['**']),
  /** Paths a proposal may never touch; denial wins over allowance. */
  denied: z.array(repoGlob).default([]),
  maxFiles: z.number().int().positive().default(50),
  maxChangedLines: z.number().int().positive().default(2000),
  /**
   * Paths CI executes (globs, matched like `allowed` but case-insensitively); the list replaces
   * DEFAULT_CI_PATHS, so keep the defaults you still want. Example: `[..., 'ci/**', 'Makefile']`.
   */
  ciPaths: z.array(repoGlob).default([...DEFAULT_CI_PATHS]),
  /** Whether paths in `ciPaths` may be touched (a change to what CI runs is a credential escalation). */
  allowWorkflows: z.boolean().default(false),
  allowBinaries: z.boolean().default(false),
  /** Whether symlinks may be added or changed (never ones escaping the repository, whatever this says). */
  allowSymlinks: z.boolean().default(false),
});

export const laneSchema = z.strictObject({
  name: z.string().regex(LANE_RE, `must match ${LANE_RE.source}`),
  kind: z.enum(['propose', 'execute']),
  identity: identitySchema,
  db: z.strictObject({
    /** The PostgreSQL login role of this lane (cluster-global name). */
    role: z.string().regex(ROLE_RE, `must match ${ROLE_RE.source}`),
    /** Environment variable holding this lane's postgres:// URL in server mode. */
    urlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('DATABASE_URL'),
  }),
  env: z
    .strictObject({
      /** Variable names this lane's processes may see (`NAME` or prefix `NAME*`). Everything else is scrubbed. */
      allow: z.array(z.string().regex(ENV_NAME_RE, 'must be an environment variable name, optionally ending in *')).default([]),
    })
    .prefault({}),
  github: githubSchema.prefault({}),
  scope: scopeSchema.prefault({}),
});

export const ledgerSchema = z.strictObject({
  /** auto: server when the URL variable holds a postgres:// URL, else embedded. */
  kind: z.enum(['auto', 'embedded', 'server']).default('auto'),
  /** PGlite data directory for embedded mode, relative to the config directory. */
  path: z.string().min(1).default('.duallane/ledger'),
  /** Environment variable holding the administrator's postgres:// URL (migrations, roles). */
  urlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('DATABASE_URL'),
});

export const forgeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** Bare git repository used as the remote, relative to the config directory. */
    remote: z.string().min(1).default('.duallane/remote.git'),
  }),
  z.strictObject({
    kind: z.literal('github'),
    /** Where to push: an https URL, a remote name (= https://<API host>/<owner>/<repo>.git, not the clone's git config), or a local path; SSH and URLs with credentials are refused. The push authenticates with the lane's token only. */
    remote: z.string().min(1).default('origin'),
    /** owner/name on GitHub. */
    repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name'),
    /** REST API base; GITHUB_API_URL overrides it at run time. */
    apiUrl: z.url().default('https://api.github.com'),
  }),
]);

export const configFileSchema = z
  .strictObject({
    version: z.literal(1),
    ledger: ledgerSchema.prefault({}),
    forge: forgeSchema.default({ kind: 'local', remote: '.duallane/remote.git' }),
    lanes: z.array(laneSchema).min(2),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    const roles = new Map<string, number>();
    cfg.lanes.forEach((lane, i) => {
      if (seen.has(lane.name)) ctx.addIssue({ code: 'custom', path: ['lanes', i, 'name'], message: `duplicate lane name ${lane.name}` });
      seen.set(lane.name, i);
      if (roles.has(lane.db.role)) ctx.addIssue({ code: 'custom', path: ['lanes', i, 'db', 'role'], message: `role ${lane.db.role} is already used by another lane` });
      roles.set(lane.db.role, i);
    });
    for (const kind of ['propose', 'execute'] as const) {
      if (!cfg.lanes.some((l) => l.kind === kind)) ctx.addIssue({ code: 'custom', path: ['lanes'], message: `at least one lane of kind ${kind} is required` });
    }
  });

export type ConfigFile = z.infer<typeof configFileSchema>;
export type LaneConfig = z.infer<typeof laneSchema>;
export type LaneKind = LaneConfig['kind'];
export type LaneIdentity = z.infer<typeof identitySchema>;
export type ScopePolicy = z.infer<typeof scopeSchema>;
export type GithubLaneSettings = z.infer<typeof githubSchema>;
export type LedgerSettings = z.infer<typeof ledgerSchema>;
export type ForgeSettings = z.infer<typeof forgeSchema>;
export type PermissionLevel = z.infer<typeof permissionLevel>;

/** A loaded configuration: the file's content with defaults filled, plus where it came from. */
export type DuallaneConfig = ConfigFile & {
  /** Absolute directory relative paths are resolved against. */
  root: string;
  /** Absolute path of duallane.yaml, or null when built-in defaults are used. */
  file: string | null;
};
