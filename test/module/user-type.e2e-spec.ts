import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '../../libs/tracing-ws/src');

/** Type-checks one snippet against the library's sources; returns the compiler's messages. */
function typeCheck(code: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tracing-ws-types-'));
  try {
    const file = join(dir, 'snippet.ts');
    writeFileSync(file, code);
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(import.meta.dirname, '../../node_modules/@types')],
      paths: { '@tracing-ws/nestjs': [join(SRC, 'index.ts')] },
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MODULE = `
import { TracingWsModule, WsContextService } from '@tracing-ws/nestjs';
`;

describe('the application user type', () => {
  it('accepts an authenticate hook returning an application interface, as the README writes it', () => {
    expect(
      typeCheck(`${MODULE}
interface User { id: string; name: string; roles: string[] }
declare const users: { byToken(token: string): Promise<User | undefined> };
TracingWsModule.forRoot({ requireAuth: true, authenticate: async ({ token }) => users.byToken(token) });
`),
    ).toEqual([]);
  });

  it('accepts an application class as the user', () => {
    expect(
      typeCheck(`${MODULE}
class User { constructor(readonly id: string, readonly name: string, private readonly secret: string) {} }
TracingWsModule.forRoot({ authenticate: ({ token }) => new User(token, 'n', 's') });
`),
    ).toEqual([]);
  });

  it('types WsContextService#user with the type given through WsUserTypes, and holds authenticate to it', () => {
    const augmented = `${MODULE}
interface User { id: string; name: string }
declare module '@tracing-ws/nestjs' {
  interface WsUserTypes { user: User }
}
declare const ws: WsContextService;
const name: string | undefined = ws.user?.name;
`;
    expect(typeCheck(`${augmented}\nTracingWsModule.forRoot({ authenticate: () => ({ id: 'a', name: 'A' }) });`)).toEqual([]);
    const wrong = typeCheck(`${augmented}\nTracingWsModule.forRoot({ authenticate: () => ({ id: 'a' }) });`);
    expect(wrong.join('\n')).toMatch(/name/);
  });

  it('refuses a user without a string id', () => {
    expect(typeCheck(`${MODULE}\nTracingWsModule.forRoot({ authenticate: () => ({ id: 42 }) });`).join('\n')).toMatch(/id/);
  });
});
