import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ScratchConsumer } from './consumer.js';
import { focusedIoSuite } from './focused-io-suite.js';
import { focusedSuite } from './focused-suite.js';

// compat/nest12: a NestJS 12 ES module app ("type": "module", module nodenext),
// installing the packed libraries from their tarballs as a user would.
describe('packed libraries in a NestJS 12 ES module app', () => {
  let consumer: ScratchConsumer;

  beforeAll(async () => {
    consumer = await ScratchConsumer.prepare('nest12');
    await consumer.start();
    await consumer.startIo();
  }, 200_000);
  afterAll(async () => {
    await consumer?.dispose();
  });

  it('runs NestJS 12 as an ES module', () => {
    expect(consumer.installedVersion('@nestjs/core')).toMatch(/^12\./);
    expect(consumer.compiled('main.js')).toContain("from '@tracing-ws/nestjs'");
    expect(consumer.app!.find({ msg: 'sample.listening' })[0]).toMatchObject({ moduleSystem: 'esm' });
  });

  focusedSuite(() => consumer);

  describe('on socket.io', () => {
    focusedIoSuite(() => consumer);
  });
});
