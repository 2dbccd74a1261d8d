import { resolve } from 'node:path';
import { configFileSchema, DEFAULT_CI_PATHS, type ConfigFile, type DuallaneConfig } from './schema.js';

export const CONFIG_FILE_NAME = 'duallane.yaml';

/** Variables every lane needs to run ordinary tools; none of them is a credential. */
const BASE_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_*', 'TERM', 'TZ', 'TMPDIR', 'CI', 'DUALLANE_DEBUG'];

/**
 * The text `duallane init` writes. Parsing it must give exactly `defaultConfig()` (a test holds us to it),
 * so the scaffold documents the defaults instead of diverging from them.
 */
export const DEFAULT_CONFIG_YAML = `# duallane.yaml: two lanes, one repository. Paths are relative to this file.
version: 1

ledger:
  # auto: PostgreSQL when $DATABASE_URL holds a postgres:// URL (server mode), else embedded PGlite.
  kind: auto
  path: .duallane/ledger
  urlEnv: DATABASE_URL

forge:
  kind: local                  # local | github (github also needs repo: owner/name)
  remote: .duallane/remote.git

lanes:
  - name: codex
    kind: propose              # reads everything, writes nothing that matters
    identity:
      kind: key                # or: kind: keyless, issuer: https://..., subject: ...
      privateKey: .duallane/keys/codex.key
      publicKey: .duallane/keys/codex.pub
    db:
      role: duallane_codex
      urlEnv: DATABASE_URL     # in server mode this lane's process logs in as duallane_codex
    env:
      allow: [${[...BASE_ENV, 'DATABASE_URL', 'GITHUB_TOKEN', 'OPENAI_API_KEY', 'CODEX_HOME'].join(', ')}]
    github:
      tokenEnv: GITHUB_TOKEN
      permissions: { contents: read, pullRequests: read, issues: read, workflows: none, administration: none }
    scope:
      allowed: ['**']
      denied: ['.duallane/**', '.env*', '**/*.key']
      maxFiles: 50
      maxChangedLines: 2000
      # Paths CI executes: changing one is WORKFLOW_CHANGE unless allowWorkflows (docs/handoff.md).
      ciPaths: [${DEFAULT_CI_PATHS.map((g) => `'${g}'`).join(', ')}]
      allowWorkflows: false
      allowBinaries: false
      allowSymlinks: false

  - name: claude
    kind: execute              # holds the write credentials; verifies, applies, opens the PR
    identity:
      kind: key
      privateKey: .duallane/keys/claude.key
      publicKey: .duallane/keys/claude.pub
    db:
      role: duallane_claude
      urlEnv: DATABASE_URL
    env:
      allow: [${[...BASE_ENV, 'DATABASE_URL', 'GITHUB_TOKEN', 'ANTHROPIC_API_KEY', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'].join(', ')}]
    github:
      tokenEnv: GITHUB_TOKEN
      permissions: { contents: write, pullRequests: write, issues: write, workflows: none, administration: none }
    scope:
      allowed: ['**']
      denied: ['.duallane/**', '.env*', '**/*.key']
      maxFiles: 50
      maxChangedLines: 2000
      # Paths CI executes: changing one is WORKFLOW_CHANGE unless allowWorkflows (docs/handoff.md).
      ciPaths: [${DEFAULT_CI_PATHS.map((g) => `'${g}'`).join(', ')}]
      allowWorkflows: false
      allowBinaries: false
      allowSymlinks: false
`;

let cached: ConfigFile | undefined;

/** The built-in configuration (what `duallane init` writes), rooted at `root` (default: cwd). */
export function defaultConfig(root: string = process.cwd()): DuallaneConfig {
  cached ??= defaultConfigFile();
  return { ...structuredClone(cached), root: resolve(root), file: null };
}

function defaultConfigFile(): ConfigFile {
  // Built from the same object the YAML describes; load-config.test.ts checks the two agree.
  const lane = (name: string, kind: 'propose' | 'execute', extraEnv: string[], write: boolean) => ({
    name,
    kind,
    identity: { kind: 'key' as const, privateKey: `.duallane/keys/${name}.key`, publicKey: `.duallane/keys/${name}.pub` },
    db: { role: `duallane_${name}`, urlEnv: 'DATABASE_URL' },
    env: { allow: [...BASE_ENV, ...extraEnv] },
    github: {
      tokenEnv: 'GITHUB_TOKEN',
      permissions: {
        contents: write ? 'write' : 'read',
        pullRequests: write ? 'write' : 'read',
        issues: write ? 'write' : 'read',
        workflows: 'none',
        administration: 'none',
      },
    },
    scope: {
      allowed: ['**'],
      denied: ['.duallane/**', '.env*', '**/*.key'],
      maxFiles: 50,
      maxChangedLines: 2000,
      ciPaths: [...DEFAULT_CI_PATHS],
      allowWorkflows: false,
      allowBinaries: false,
      allowSymlinks: false,
    },
  });
  return configFileSchema.parse({
    version: 1,
    ledger: { kind: 'auto', path: '.duallane/ledger', urlEnv: 'DATABASE_URL' },
    forge: { kind: 'local', remote: '.duallane/remote.git' },
    lanes: [
      lane('codex', 'propose', ['DATABASE_URL', 'GITHUB_TOKEN', 'OPENAI_API_KEY', 'CODEX_HOME'], false),
      lane('claude', 'execute', ['DATABASE_URL', 'GITHUB_TOKEN', 'ANTHROPIC_API_KEY', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'], true),
    ],
  });
}
