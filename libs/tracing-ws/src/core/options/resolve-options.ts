import { defaultsOf, invalidOption, resolveRules } from './option-rule.js';
import { TRACING_WS_CROSS_RULES, TRACING_WS_OPTION_RULES } from './tracing-ws.option-rules.js';
import type { ResolvedTracingWsOptions, TracingWsModuleOptions } from './tracing-ws.options.js';

/** The defaults, frozen (`broadcast.instanceId` is generated per resolution). */
export const TRACING_WS_DEFAULTS: ResolvedTracingWsOptions = defaultsOf(TRACING_WS_OPTION_RULES);

/**
 * Merges `options` over the defaults and validates the result, once, at bootstrap.
 * @throws Error naming the first invalid option and how to fix it.
 */
export function resolveTracingWsOptions(options: TracingWsModuleOptions | undefined): ResolvedTracingWsOptions {
  const resolved = resolveRules(TRACING_WS_OPTION_RULES, options);
  for (const rule of TRACING_WS_CROSS_RULES) {
    if (!rule.valid(resolved)) throw invalidOption(rule.option, rule.shown(resolved), rule.fix);
  }
  return resolved;
}
