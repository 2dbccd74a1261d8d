import { describe, expect, it } from 'vitest';
import { matchPattern } from './pattern.js';
import { substituteReferences } from './references.js';

// Kyverno validate_test.go: TestValidateMap_CorrectRelativePathInConfig / RelativePathDoesNotExists.
describe('$() references in patterns', () => {
  const resource = { spec: { containers: [{ name: 'nirmata', resources: { requests: { memory: '1024Mi' }, limits: { memory: '2048Mi' } } }] } };
  it('resolves a relative reference with an operator against the pattern', () => {
    const pattern = { spec: { containers: [{ name: '*', resources: { requests: { memory: '$(<=./../../limits/memory)' }, limits: { memory: '2048Mi' } } }] } };
    const sub = substituteReferences(pattern) as typeof pattern;
    expect(sub.spec.containers[0]!.resources.requests.memory).toBe('<=2048Mi');
    expect(matchPattern(resource, sub).ok).toBe(true);
  });
  it('an unresolvable reference stays literal and fails at its path', () => {
    const pattern = { spec: { containers: [{ name: '*', resources: { requests: { memory: '$(./../somekey/somekey2/memory)' }, limits: { memory: '2048Mi' } } }] } };
    const r = matchPattern(resource, substituteReferences(pattern));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.path).toBe('/spec/containers/0/resources/requests/memory/');
  });
  it('absolute references and references without operator', () => {
    const pattern = { metadata: { labels: { app: '$(/spec/selector/app)' } }, spec: { selector: { app: 'web' } } };
    expect(substituteReferences(pattern)).toEqual({ metadata: { labels: { app: 'web' } }, spec: { selector: { app: 'web' } } });
  });
});
