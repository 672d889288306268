import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScratchConsumer } from './consumer.js';
import { focusedIoSuite } from './focused-io-suite.js';
import { focusedSuite } from './focused-suite.js';

// compat/nest11: a NestJS 11 app compiled to CommonJS ("type": "commonjs",
// module commonjs), installing the packed libraries from their tarballs.
// The ES module libraries load through require(esm) (Node >= 22.12).
describe('packed libraries in a NestJS 11 CommonJS app', () => {
  let consumer: ScratchConsumer;

  beforeAll(async () => {
    consumer = await ScratchConsumer.prepare('nest11');
    await consumer.start();
    await consumer.startIo();
  }, 200_000);
  afterAll(async () => {
    await consumer?.dispose();
  });

  it('runs NestJS 11 compiled to CommonJS', () => {
    expect(consumer.installedVersion('@nestjs/core')).toMatch(/^11\./);
    expect(consumer.installedVersion('@nestjs/websockets')).toMatch(/^11\./);
    expect(consumer.compiled('main.js')).toContain('require("@tracing-ws/nestjs")');
    expect(consumer.app!.find({ msg: 'sample.listening' })[0]).toMatchObject({ moduleSystem: 'commonjs' });
  });

  focusedSuite(() => consumer);

  describe('on socket.io', () => {
    focusedIoSuite(() => consumer);
  });
});
