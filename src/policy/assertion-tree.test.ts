import { describe, expect, it } from 'vitest';
import { assertTree, AssertionTreeError } from './assertion-tree.js';

describe('Kyverno JSON assertion trees', () => {
  const rule = { name: 'check-team', ruleType: 'Validation', message: 'team label required', status: 'fail' };

  it('plain keys compare fields; missing fields are reported', () => {
    expect(assertTree({ status: 'fail' }, rule)).toEqual([]);
    expect(assertTree({ status: 'pass' }, rule)).toEqual([{ path: 'status', message: 'Invalid value: "fail": Expected value: "pass"' }]);
    expect(assertTree({ nope: 1 }, rule)[0]!.message).toMatch(/field not found/);
  });

  it('(expr) keys are JMESPath projections of the current value', () => {
    expect(assertTree({ "(status != 'pass')": true }, rule)).toEqual([]);
    expect(assertTree({ "(status == 'pass')": true }, rule)).toHaveLength(1);
    expect(assertTree({ '(length(message))': 19 }, rule)).toEqual([]);
  });

  it('(expr) leaves are evaluated against the value before comparing', () => {
    expect(assertTree({ message: '(to_upper(@) == @ && @ || \'team label required\')' }, rule)).toEqual([]);
  });

  it('an empty map only needs a non-null value; lists compare element-wise with equal length', () => {
    expect(assertTree({}, rule)).toEqual([]);
    expect(assertTree({ metadata: {} }, { metadata: null })).toHaveLength(1);
    expect(assertTree({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
    expect(assertTree({ a: [1] }, { a: [1, 2] })[0]!.message).toMatch(/lengths/);
  });

  it('~. asserts on every element; -> binds a value', () => {
    const pod = { spec: { containers: [{ name: 'a', image: 'nginx:1' }, { name: 'b', image: 'nginx:2' }] } };
    expect(assertTree({ spec: { '~.containers': { '(starts_with(image, \'nginx\'))': true } } }, pod)).toEqual([]);
    expect(assertTree({ spec: { '~.containers': { name: 'a' } } }, pod)).toHaveLength(1);
    expect(assertTree({ '(spec.containers[0].name) -> first': 'a', 'spec -> s': { '~i.containers': { '($i == `0` || name != $s.containers[0].name)': true } } }, pod)).toEqual([]);
    expect(assertTree({ 'spec -> s': { '~i.containers': { '($i == `1` || name == $s.containers[1].name)': true } } }, pod)).toHaveLength(1);
  });

  it('labels nested under metadata select like Kyverno', () => {
    expect(assertTree({ metadata: { labels: { foo: 'bar' } } }, { metadata: { name: 'x', labels: { foo: 'bar', z: '1' } } })).toEqual([]);
    expect(assertTree({ metadata: { labels: { foo: 'bar' } } }, { metadata: { name: 'x' } })).toHaveLength(1);
  });

  it('numbers compare by value; incomparable types and other engines are errors', () => {
    expect(assertTree({ n: 1 }, { n: 1.0 })).toEqual([]);
    expect(() => assertTree({ n: '1' }, { n: 1 })).toThrow(AssertionTreeError);
    expect(() => assertTree({ '(cel;object.x)': true }, {})).toThrow(/not supported/);
  });

  it('escaped keys are literal field names', () => {
    expect(assertTree({ '\\(weird)\\': 1 }, { '(weird)': 1 })).toEqual([]);
  });
});
