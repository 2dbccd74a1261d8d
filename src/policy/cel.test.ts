import { describe, expect, it } from 'vitest';
import { celRequest, evaluateCelRule } from './cel-validate.js';
import { compileCel } from './cel-env.js';
import { evaluatePolicy } from './engine.js';
import type { Policy, Resource, Rule } from './types.js';

const matchPod = { any: [{ resources: { kinds: ['Pod'] } }] };
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Resource => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'apps', ...meta }, spec });
const celRule = (cel: Record<string, unknown>, extra: Partial<Rule> = {}, message?: string): Rule => ({ name: 'r', match: matchPod, ...extra, validate: { ...(message ? { message } : {}), cel } });
const run = (rule: Rule, r: Resource, request = {}) => evaluateCelRule(rule, r, request);
const policy = (rules: Rule[], annotations?: Record<string, string>): Policy => ({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p', ...(annotations ? { annotations } : {}) }, spec: { rules } });

describe('validate.cel results (Kyverno validate_cel.go + Kubernetes validator)', () => {
  const containers = [{ name: 'a', image: 'nginx:1.27' }, { name: 'b', image: 'busybox:latest' }];

  it('all expressions true: pass with Kyverno\'s message', () => {
    expect(run(celRule({ expressions: [{ expression: 'object.spec.containers.all(c, c.image.contains(":"))' }] }), pod({ containers }))).toEqual({ status: 'pass', message: "Validation rule 'r' passed." });
  });

  it('the first false expression fails: messageExpression, then message, then validate.message, then "failed expression"', () => {
    const bad = 'object.spec.containers.all(c, !c.image.endsWith(":latest"))';
    const r = pod({ containers });
    expect(run(celRule({ expressions: [{ expression: 'true' }, { expression: bad, message: 'static', messageExpression: '"tag latest in " + object.metadata.name' }] }), r)).toEqual({ status: 'fail', message: 'tag latest in web' });
    expect(run(celRule({ expressions: [{ expression: bad, message: '  static  ' }] }), r).message).toBe('static');
    expect(run(celRule({ expressions: [{ expression: bad }] }, {}, 'rule message'), r).message).toBe('rule message');
    expect(run(celRule({ expressions: [{ expression: ` ${bad} ` }] }), r).message).toBe(`failed expression: ${bad}`);
    // A messageExpression that errors, is empty or spans lines falls back to the message.
    for (const me of ['object.nope', '"  "', '"a\\nb"', '1']) expect(run(celRule({ expressions: [{ expression: 'false', message: 'fallback', messageExpression: me }] }), r).message).toBe('fallback');
    // Only the first failing expression reports.
    expect(run(celRule({ expressions: [{ expression: 'false', message: 'one' }, { expression: 'false', message: 'two' }] }), r).message).toBe('one');
  });

  it('an evaluation error fails the rule (no failurePolicy: Kubernetes denies) with the expression', () => {
    const out = run(celRule({ expressions: [{ expression: 'object.spec.hostNetwork == false', message: 'm' }] }), pod({ containers }));
    expect(out.status).toBe('fail');
    expect(out.message).toMatch(/^expression 'object.spec.hostNetwork == false' resulted in error: No such key: hostNetwork/);
    // A non-bool result is not true: fail.
    expect(run(celRule({ expressions: [{ expression: '"yes"', message: 'm' }] }), pod({ containers }))).toEqual({ status: 'fail', message: 'm' });
  });

  it('compile errors, paramKind/paramRef and authorizer are errors, never a pass', () => {
    expect(run(celRule({ expressions: [{ expression: 'object.spec ++ 1' }] }), pod({}))).toMatchObject({ status: 'error', message: expect.stringMatching(/compilation error: cel.expressions\[0\].expression: Unexpected token/) });
    expect(run(celRule({ expressions: [{ expression: 'objet.spec == null' }] }), pod({}))).toMatchObject({ status: 'error', message: expect.stringContaining('Unknown variable: objet') });
    expect(run(celRule({ expressions: [] }), pod({})).status).toBe('error');
    expect(run(celRule({ expressions: [{ message: 'no expression' }] }), pod({})).status).toBe('error');
    expect(run(celRule({ paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, paramRef: { name: 'x' }, expressions: [{ expression: 'params.data.x == "1"' }] }), pod({}))).toMatchObject({ status: 'error', message: expect.stringContaining('paramKind/paramRef') });
    expect(run(celRule({ expressions: [{ expression: 'authorizer.group("").resource("pods").check("create").allowed()' }] }), pod({}))).toMatchObject({ status: 'error', message: expect.stringContaining('authorizer') });
    expect(run({ name: 'r', match: matchPod, validate: { cel: 'x' } }, pod({})).status).toBe('error');
  });

  it('variables are lazy and memoised; a failing variable fails only the expressions that read it', () => {
    const vars = [
      { name: 'all', expression: 'object.spec.containers + object.spec.?initContainers.orValue([])' },
      { name: 'broken', expression: 'object.spec.nothing.here' },
      { name: 'images', expression: 'variables.all.map(c, c.image)' },
    ];
    const r = pod({ containers: [{ name: 'a', image: 'nginx:1' }], initContainers: [{ name: 'i', image: 'init:latest' }] });
    expect(run(celRule({ variables: vars, expressions: [{ expression: 'size(variables.images) == 2' }] }), r).status).toBe('pass');
    expect(run(celRule({ variables: vars, expressions: [{ expression: 'variables.images.all(i, !i.endsWith(":latest"))', messageExpression: '"bad: " + variables.images.filter(i, i.endsWith(":latest")).join(", ")' }] }), r)).toEqual({ status: 'fail', message: 'bad: init:latest' });
    const broken = run(celRule({ variables: vars, expressions: [{ expression: 'variables.broken == 1' }] }), r);
    expect(broken.status).toBe('fail');
    expect(broken.message).toContain('composited variable "broken" fails to evaluate');
  });

  it('celPreconditions: any false skips; an error fails; all true evaluates', () => {
    const exprs = { expressions: [{ expression: 'false', message: 'denied' }] };
    const pre = (...e: string[]) => ({ celPreconditions: e.map((expression, i) => ({ name: `c${i}`, expression })) });
    expect(run(celRule(exprs, pre('true', 'object.metadata.name == "other"')), pod({}))).toEqual({ status: 'skip', message: 'cel preconditions not met' });
    expect(run(celRule(exprs, pre('object.nope', 'false')), pod({})).status).toBe('skip');
    expect(run(celRule(exprs, pre('object.nope')), pod({})).status).toBe('fail');
    expect(run(celRule(exprs, pre('true', 'object.metadata.name == "web"')), pod({}))).toEqual({ status: 'fail', message: 'denied' });
  });

  it('request, oldObject and namespaceObject follow the admission request', () => {
    const r = pod({ containers }, { labels: { app: 'x' } });
    const exprs = (e: string) => celRule({ expressions: [{ expression: e }] });
    expect(run(exprs('request.operation == "CREATE" && oldObject == null && object.metadata.labels.app == "x"'), r).status).toBe('pass');
    expect(run(exprs('request.operation == "UPDATE" && oldObject.metadata.name == "web"'), r, { operation: 'UPDATE' }).status).toBe('pass');
    expect(run(exprs('object == null && oldObject.metadata.name == "web"'), r, { operation: 'DELETE' }).status).toBe('pass');
    expect(run(exprs('request.kind.kind == "Pod" && request.kind.group == "" && request.resource.resource == "pods" && request.namespace == "apps" && request.name == "web"'), r).status).toBe('pass');
    expect(run(exprs('request.userInfo.username == "alice" && "dev" in request.userInfo.groups'), r, { userInfo: { username: 'alice', groups: ['dev'] } }).status).toBe('pass');
    expect(run(exprs('namespaceObject.metadata.name == "apps" && namespaceObject.metadata.labels.env == "prod"'), r, { namespaceLabels: { env: 'prod' } }).status).toBe('pass');
    const ns: Resource = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } };
    expect(run({ ...exprs('namespaceObject == null && request.namespace == ""'), match: { any: [{ resources: { kinds: ['Namespace'] } }] } }, ns).status).toBe('pass');
    expect(celRequest({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' } }, {})).toMatchObject({ kind: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }, resource: { resource: 'ingresses' } });
  });

  it('numbers: integers are CEL ints, fractions doubles; heterogeneous comparison works', () => {
    const r: Resource = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 3, ratio: 0.5 } };
    const rule = (e: string) => ({ name: 'r', match: { any: [{ resources: { kinds: ['Deployment'] } }] }, validate: { cel: { expressions: [{ expression: e }] } } });
    expect(run(rule('object.spec.replicas <= 5 && object.spec.replicas == 3 && object.spec.ratio < 1'), r).status).toBe('pass');
    expect(run(rule('object.spec.replicas + 1 == 4 && type(object.spec.replicas) == int'), r).status).toBe('pass');
  });

  it('Kubernetes CEL library functions the samples use', () => {
    const r = pod({ containers }, { annotations: { 'a.io/x': 'A,B', size: '512Mi' } });
    const ok = (e: string) => expect(run(celRule({ expressions: [{ expression: e }] }), r), e).toMatchObject({ status: 'pass' });
    ok('has(object.metadata.annotations) && !has(object.spec.hostPID)');
    ok('object.spec.containers.exists_one(c, c.name == "a") && object.spec.containers.map(c, c.name) == ["a", "b"]');
    ok('object.metadata.annotations["a.io/x"].lowerAscii().split(",") == ["a", "b"]');
    ok('["a", "b"].join("-") == "a-b" && "abc".replace("b", "x") == "axc" && "aaa".replace("a", "b", 2) == "bba"');
    ok('"abc".charAt(1) == "b" && "abc".reverse() == "cba" && "a1b22".findAll("[0-9]+") == ["1", "22"] && "a1b22".find("[0-9]{2}") == "22"');
    ok('[1, 2, 2].isSorted() && ![2, 1].isSorted() && [1, 2, 3].sum() == 6 && [3, 1].min() == 1 && ["a", "c"].max() == "c"');
    ok('[1, 2, 3].indexOf(2) == 1 && [1, 2, 1].lastIndexOf(1) == 2');
    ok('sets.contains([1, 2, 3], [1, 3]) && sets.equivalent([1, 2], [2, 1]) && sets.intersects(["a"], ["b", "a"])');
    ok('isQuantity(object.metadata.annotations.size) && quantity(object.metadata.annotations.size).isGreaterThan(quantity("500Mi")) && quantity("1").asInteger() == 1');
    ok('quantity("1Gi").compareTo(quantity("1024Mi")) == 0 && quantity("500m").asApproximateFloat() == 0.5');
    ok('object.spec.?hostNetwork.orValue(false) == false && object.spec.containers[0].?securityContext.?privileged.orValue(false) == false');
    ok('cel.bind(n, size(object.spec.containers), n == 2)');
    ok('object.metadata.name.matches("^w.b$") && object.metadata.name.startsWith("w") && "ell" in ["ell"]');
  });

  it('untrusted keys such as __proto__ are plain map keys', () => {
    const r = JSON.parse('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"__proto__":"x","constructor":"y"}},"spec":{}}') as Resource;
    expect(run(celRule({ expressions: [{ expression: 'object.metadata.labels["__proto__"] == "x" && object.metadata.labels.constructor == "y" && size(object.metadata.labels) == 2' }] }), r).status).toBe('pass');
  });

  it('nested macros over a large untrusted list are refused before evaluation', () => {
    const big = Array.from({ length: 3000 }, (_, i) => ({ name: `c${i}`, image: 'x' }));
    const out = run(celRule({ expressions: [{ expression: 'object.spec.containers.all(a, object.spec.containers.all(b, object.spec.containers.exists(c, a.name != c.name || b.name != c.name)))' }] }), pod({ containers: big }));
    expect(out.status).toBe('error');
    expect(out.message).toMatch(/estimated CEL evaluation cost .* exceeds the budget/);
    // One level over the same list is cheap and runs.
    expect(run(celRule({ expressions: [{ expression: 'object.spec.containers.all(a, a.image == "x")' }] }), pod({ containers: big })).status).toBe('pass');
    expect(compileCel('a.all(x, x.b.exists(y, y))'.replace(/^a/, 'object')).macroDepth).toBe(2);
  });
});

describe('validate.cel through evaluatePolicy', () => {
  const rule: Rule = {
    name: 'no-host-network',
    match: matchPod,
    validate: { cel: { expressions: [{ expression: '!has(object.spec.hostNetwork) || object.spec.hostNetwork == false', message: 'no hostNetwork' }] } },
  };

  it('autogen rewrites object.spec for pod controllers and CronJobs, as Kyverno does', async () => {
    const dep = (hostNetwork: boolean): Resource => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'apps' }, spec: { template: { spec: { hostNetwork, containers: [] } } } });
    const cron: Resource = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c', namespace: 'apps' }, spec: { jobTemplate: { spec: { template: { spec: { hostNetwork: true, containers: [] } } } } } };
    expect((await evaluatePolicy(policy([rule]), dep(false))).rules.map((r) => [r.name, r.status])).toEqual([['autogen-no-host-network', 'pass']]);
    expect((await evaluatePolicy(policy([rule]), dep(true))).rules[0]).toMatchObject({ name: 'autogen-no-host-network', status: 'fail', message: 'no hostNetwork' });
    expect((await evaluatePolicy(policy([rule]), cron)).rules[0]).toMatchObject({ name: 'autogen-cronjob-no-host-network', status: 'fail' });
  });

  it('celPreconditions are rewritten for autogen rules too; JMESPath context does not apply to cel rules', async () => {
    const r: Rule = { ...rule, celPreconditions: [{ name: 'labelled', expression: 'has(object.metadata.labels) && object.metadata.labels.app == "web"' }], context: [{ name: 'x', configMap: { name: 'cm', namespace: 'ns' } }] };
    const dep = (app: string): Resource => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'apps' }, spec: { template: { metadata: { labels: { app } }, spec: { hostNetwork: true } } } });
    expect((await evaluatePolicy(policy([r]), dep('web'))).rules.map((x) => x.status)).toEqual(['fail']);
    expect((await evaluatePolicy(policy([r]), dep('db'))).rules.map((x) => x.status)).toEqual(['skip']);
  });

  it('scored=false turns a cel fail into warn; failureAction comes from the rule', async () => {
    const enforce: Rule = { ...rule, validate: { ...rule.validate, failureAction: 'Enforce' } };
    const bad = pod({ hostNetwork: true, containers: [] });
    expect((await evaluatePolicy(policy([enforce]), bad)).rules[0]).toMatchObject({ status: 'fail', failureAction: 'Enforce', type: 'Validation' });
    expect((await evaluatePolicy(policy([enforce], { 'policies.kyverno.io/scored': 'false' }), bad)).rules[0]).toMatchObject({ status: 'warn' });
  });
});
