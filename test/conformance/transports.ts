import type { TransportHarness } from './harness.js';
import { ioHarness } from './harness.io.js';
import { wsHarness } from './harness.ws.js';

/** Every transport the conformance specs run against. Add a harness here; the specs do not change. */
export const TRANSPORTS: TransportHarness[] = [wsHarness, ioHarness];
