import { describe, expect, it } from 'vitest';
import { defaultConfig, getLane } from '../config/index.js';
import { checkLaneEnv, envAllowed, looksSecret, scrubEnv } from './lane-env.js';
import { permissionsFromRepository, permissionsFromScopes } from './github-permissions.js';

const cfg = defaultConfig('/repo');
const codex = getLane(cfg, 'codex');

describe('lane environment', () => {
  it('scrubs everything outside the allowlist (prefix patterns allowed)', () => {
    const env = scrubEnv({ PATH: '/bin', LC_ALL: 'C', ANTHROPIC_API_KEY: 'sk-ant-x', AWS_SECRET_ACCESS_KEY: 'x', OPENAI_API_KEY: 'sk-y' }, codex);
    expect(env).toEqual({ PATH: '/bin', LC_ALL: 'C', OPENAI_API_KEY: 'sk-y', DUALLANE_LANE: 'codex' });
    expect(envAllowed('LC_CTYPE', ['LC_*'])).toBe(true);
    expect(envAllowed('LC', ['LC_*'])).toBe(false);
  });

  it('recognises credentials by name and by value shape', () => {
    expect(looksSecret('DEPLOY_PASSWORD', '')).toBe(true);
    expect(looksSecret('SOMETHING', 'ghp_' + 'a'.repeat(36))).toBe(true);
    expect(looksSecret('UPSTREAM', 'postgres://u:p@h/db')).toBe(true);
    expect(looksSecret('EDITOR', 'vim')).toBe(false);
    expect(looksSecret('NPM_AUTH', 'x')).toBe(true);
    expect(looksSecret('AUTH_HEADER', 'x')).toBe(true);
    expect(looksSecret('PROXY_AUTHORIZATION', 'x')).toBe(true);
    // AUTH inside another word is not a credential: git's identity variables are not secrets.
    expect(looksSecret('GIT_AUTHOR_NAME', 'Test')).toBe(false);
    expect(looksSecret('GIT_AUTHOR_EMAIL', 'test@example.invalid')).toBe(false);
  });

  it("reports stray secrets and another lane's key path by name, never by value", () => {
    const f = checkLaneEnv(cfg, codex, { PATH: '/bin', GITHUB_TOKEN: 'ghp_read', ANTHROPIC_API_KEY: 'sk-ant-secret', SIGNER: '/repo/.duallane/keys/claude.key', EDITOR: 'vim' });
    expect(f.map((x) => x.code).sort()).toEqual(['ENV_OTHER_LANE_KEY', 'ENV_SECRET_OUTSIDE_ALLOWLIST']);
    expect(JSON.stringify(f)).not.toContain('sk-ant-secret');
  });
});

describe('GitHub permission mapping', () => {
  it('classic scopes', () => {
    expect(permissionsFromScopes([])).toMatchObject({ contents: 'read', workflows: 'none' });
    expect(permissionsFromScopes(['repo', 'workflow'])).toMatchObject({ contents: 'write', pullRequests: 'write', workflows: 'write', administration: 'none' });
  });
  it('repository permissions object', () => {
    expect(permissionsFromRepository({ pull: true })).toMatchObject({ contents: 'read', issues: 'read' });
    expect(permissionsFromRepository({ pull: true, push: true, admin: true })).toMatchObject({ contents: 'write', administration: 'write' });
  });
});
