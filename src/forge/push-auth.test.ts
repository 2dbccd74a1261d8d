import { describe, expect, it } from 'vitest';
import { gitPushTarget, gitWebBaseUrl, redactSecrets, tokenPushAccess } from './push-auth.js';

describe('push target and token access of the GitHub forge', () => {
  it('derives the git host from the API URL', () => {
    expect(gitWebBaseUrl('https://api.github.com')).toBe('https://github.com');
    expect(gitWebBaseUrl('https://ghe.example.com/api/v3/')).toBe('https://ghe.example.com');
    expect(gitWebBaseUrl('https://api.acme.ghe.com')).toBe('https://acme.ghe.com');
    expect(gitWebBaseUrl('http://127.0.0.1:4000')).toBe('http://127.0.0.1:4000');
    expect(gitWebBaseUrl('not a url')).toBeNull();
  });

  it('classifies remotes: https and loopback http are pushed with the token, names map to owner/repo, SSH is refused', () => {
    const t = (remote: string, api = 'https://api.github.com') => gitPushTarget(remote, api, 'acme', 'widgets');
    expect(t('origin')).toEqual({ kind: 'https', url: 'https://github.com/acme/widgets.git' });
    expect(t('origin', 'https://ghe.example.com/api/v3')).toEqual({ kind: 'https', url: 'https://ghe.example.com/acme/widgets.git' });
    expect(t('https://github.com/acme/widgets.git/')).toEqual({ kind: 'https', url: 'https://github.com/acme/widgets.git' });
    expect(t('http://127.0.0.1:9/acme/widgets.git')).toEqual({ kind: 'https', url: 'http://127.0.0.1:9/acme/widgets.git' });
    expect(t('/srv/git/widgets.git')).toEqual({ kind: 'local', path: '/srv/git/widgets.git' });
    expect(t('../widgets.git')).toEqual({ kind: 'local', path: '../widgets.git' });
    expect(t('file:///srv/git/widgets.git')).toEqual({ kind: 'local', path: 'file:///srv/git/widgets.git' });
    for (const bad of ['git@github.com:acme/widgets.git', 'ssh://git@github.com/acme/widgets.git', 'git://github.com/acme/widgets.git', 'http://github.com/acme/widgets.git', 'https://me:pw@github.com/acme/widgets.git', 'https://github.com/acme/widgets.git?x=1']) {
      const r = t(bad);
      expect(r.kind, bad).toBe('invalid');
      expect(JSON.stringify(r)).not.toContain(':pw@');
    }
  });

  it('puts the token only in env config values, in the header form GitHub accepts', () => {
    const a = tokenPushAccess('https://github.com/acme/widgets.git', 'ghs_abc123');
    const basic = Buffer.from('x-access-token:ghs_abc123').toString('base64');
    const n = Number(a.env.GIT_CONFIG_COUNT);
    const entries = Array.from({ length: n }, (_, i) => [a.env[`GIT_CONFIG_KEY_${i}`], a.env[`GIT_CONFIG_VALUE_${i}`]]);
    expect(entries.slice(0, 3)).toEqual([
      ['credential.helper', ''],
      ['http.https://github.com/acme/widgets.git.extraHeader', ''],
      ['http.https://github.com/acme/widgets.git.extraHeader', `Authorization: Basic ${basic}`],
    ]);
    expect(entries).toContainEqual(['protocol.http.allow', 'never']);
    expect(a.env.GIT_ASKPASS).toBe('true');
    expect(Object.entries(a.env).filter(([, v]) => v.includes(basic)).map(([k]) => k)).toEqual(['GIT_CONFIG_VALUE_2']);
    expect(a.secrets).toEqual(['ghs_abc123', basic]);
    expect(redactSecrets(`fatal: x ${basic} y ghs_abc123`, a.secrets)).toBe('fatal: x *** y ***');
  });
});
