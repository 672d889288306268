import { describe, expect, it } from '@jest/globals';
import * as api from '@tracing-ws/nestjs';
import * as compositeEntry from '@tracing-ws/nestjs/composite';
import * as wsEntry from '@tracing-ws/nestjs/ws';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const INDEX = join(import.meta.dirname, '../../libs/tracing-ws/src/index.ts');
const COMPOSITE = join(import.meta.dirname, '../../libs/tracing-ws/src/composite/index.ts');

/** Every name the package exports, values and types, as the compiler sees them. */
function exportedNames(entry: string): { values: string[]; types: string[] } {
  const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2023, experimentalDecorators: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const values: string[] = [];
  const types: string[] = [];
  for (const exported of checker.getExportsOfModule(symbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(exported.name);
  }
  return { values: values.sort(), types: types.sort() };
}

// Every addition to the public API is deliberate: add it here, and document it in the README.
const VALUES = [
  'TracedGateway',
  'TracingWsAdapter',
  'TracingWsAdminModule',
  'TracingWsMetricsController',
  'TracingWsModule',
  'WS_CLIENT_REPORT_EVENT',
  'WS_CLOSE_CODES',
  'WS_CONNECTION_CONTEXT',
  'WS_ERROR_CODES',
  'WS_LOG_REDACT_PATHS',
  'WS_MESSAGE_CONTEXT',
  'WS_ROOM_EVENTS',
  'WsBroadcaster',
  'WsConnection',
  'WsContextService',
  'WsForceSampler',
  'WsHandshakeGuard',
  'WsSessionSampler',
  'WsTracingInterceptor',
  'redactUrlSecrets',
  'wsLogMixin',
  'wsRequestSerializer',
];

const TYPES = [
  'TracingWsAdminOptions',
  'TracingWsBackpressureOptions',
  'TracingWsBroadcastOptions',
  'TracingWsHandshakeCheckOptions',
  'TracingWsHeartbeatOptions',
  'TracingWsHistoryOptions',
  'TracingWsInvalidFrameOptions',
  'TracingWsMetricsOptions',
  'TracingWsModuleExtras',
  'TracingWsModuleOptions',
  'TracingWsRateLimitOptions',
  'TracingWsRedisOptions',
  'TracingWsShutdownOptions',
  'WsAdminAccessHook',
  'WsAdminConnection',
  'WsAdminRequest',
  'WsAuthRequest',
  'WsAuthenticateHook',
  'WsBroadcastBackendState',
  'WsBroadcastTarget',
  'WsConnectionContext',
  'WsCredential',
  'WsCredentialSource',
  'WsErrorCode',
  'WsErrorData',
  'WsForceSampleHook',
  'WsFrame',
  'WsFrameMeta',
  'WsHandshakeCheckResult',
  'WsHandshakeRequest',
  'WsLogLevel',
  'WsMessageContext',
  'WsMessageSpanHook',
  'WsMessageSpanInfo',
  'WsOnlineConnection',
  'WsPresenceResult',
  'WsRecoveryFailure',
  'WsRoomMember',
  'WsRoomPosition',
  'WsSamplerLike',
  'WsTraceContext',
  'WsTraceMode',
  'WsUser',
  'WsUserFields',
  'WsUserTypes',
];

describe('the public API of @tracing-ws/nestjs', () => {
  it('exports exactly the documented values and types', () => {
    expect(exportedNames(INDEX)).toEqual({ values: VALUES, types: TYPES });
  });

  it('has those values at run time, and nothing else', () => {
    expect(Object.keys(api).sort()).toEqual(VALUES);
  });

  it('documents every exported name in the README\'s "Public API" section', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Public API'), readme.indexOf('\n## ', readme.indexOf('## Public API') + 1));
    expect(section.length).toBeGreaterThan(100);
    const names = [...VALUES, ...TYPES].map((n) => (n === 'WsConnection' || n === 'TracedGateway' ? `@${n}()` : n));
    expect(names.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('gives each transport its own entry point: @tracing-ws/nestjs/ws is the adapter the root re-exports', () => {
    expect(Object.keys(wsEntry)).toEqual(['TracingWsAdapter']);
    expect(wsEntry.TracingWsAdapter).toBe(api.TracingWsAdapter);
  });

  it('exports the composite adapter from @tracing-ws/nestjs/composite, documented in the README', () => {
    expect(exportedNames(COMPOSITE)).toEqual({ values: ['TracingCompositeAdapter'], types: ['TracingCompositeAdapterOptions', 'WsTransportName'] });
    expect(Object.keys(compositeEntry)).toEqual(['TracingCompositeAdapter']);
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const name of ['TracingCompositeAdapter', 'TracingCompositeAdapterOptions', 'WsTransportName']) expect(readme).toContain(`\`${name}\``);
  });
});
