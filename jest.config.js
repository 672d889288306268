/**
 * Jest 30 in ESM mode (NestJS 12 is ESM-only). ts-jest only transpiles
 * (isolatedModules); `npm test` type-checks with tsc before running Jest.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@tracing-ws/nestjs$': '<rootDir>/libs/tracing-ws/src/index.ts',
    '^@tracing-ws/nestjs/ws$': '<rootDir>/libs/tracing-ws/src/transports/ws/index.ts',
    '^@tracing-ws/nestjs/socket\\.io$': '<rootDir>/libs/tracing-ws/src/transports/socket.io/index.ts',
    '^@tracing-ws/client$': '<rootDir>/libs/tracing-ws-client/src/index.ts',
    '^@tracing-ws/client/socket\\.io$': '<rootDir>/libs/tracing-ws-client/src/socket.io/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  setupFiles: ['<rootDir>/test/jest.setup.ts'],
  testMatch: [
    '<rootDir>/libs/*/src/**/*.spec.ts',
    '<rootDir>/apps/*/src/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
  ],
  testTimeout: 30000,
};
