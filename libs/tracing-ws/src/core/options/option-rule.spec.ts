import { describe, expect, it } from '@jest/globals';
import { defaultsOf, OptionalGroup, OptionRule, resolveRules, type OptionRules } from './option-rule.js';

interface Shape {
  readonly size: number;
  readonly nested: { readonly on: boolean };
  readonly extra: { readonly url: string } | undefined;
}

const rules: OptionRules<Shape> = {
  size: new OptionRule(3, (v) => typeof v === 'number' && v > 0, 'give a positive number.'),
  nested: { on: new OptionRule(false, (v) => typeof v === 'boolean', 'give true or false.') },
  extra: new OptionalGroup({ url: new OptionRule('', (v) => typeof v === 'string' && v.startsWith('x:'), 'give an x: URL.', { show: () => '[redacted]' }) }),
};

describe('option table', () => {
  it('fills defaults, leaves an optional group out unless given, and freezes every level', () => {
    const resolved = resolveRules(rules, { nested: {} });
    expect(resolved).toEqual({ size: 3, nested: { on: false }, extra: undefined });
    expect(Object.isFrozen(resolved) && Object.isFrozen(resolved.nested)).toBe(true);
    expect(resolveRules(rules, { extra: { url: 'x:1' } }).extra).toEqual({ url: 'x:1' });
  });

  it('names the dotted path of a bad nested option, and hides what `show` hides', () => {
    expect(() => resolveRules(rules, { nested: { on: 'yes' } })).toThrow('TracingWsModule: option "nested.on" is invalid (got "yes"): give true or false.');
    expect(() => resolveRules(rules, { extra: { url: 'http://user:secret@h' } })).toThrow('option "extra.url" is invalid (got "[redacted]")');
  });

  it('refuses a group given as something other than an object', () => {
    expect(() => resolveRules(rules, { nested: 5 })).toThrow('option "nested" is invalid (got 5): give an object of options, or leave it out.');
  });

  it('lists the defaults without optional groups', () => {
    expect(defaultsOf(rules)).toEqual({ size: 3, nested: { on: false }, extra: undefined });
  });
});
