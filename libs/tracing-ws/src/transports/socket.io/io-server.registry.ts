import type { INestApplicationContext } from '@nestjs/common';
import type { Server } from 'socket.io';

/**
 * The Nest app of each socket.io server that `TracingIoAdapter` created. socket.io
 * builds a namespace's adapter from the namespace alone, so this is how a traced
 * Redis adapter finds the module's options, logger and metrics of its app (two
 * apps in one process keep theirs apart).
 */
const apps = new WeakMap<Server, INestApplicationContext>();

export function registerIoServer(server: Server, app: INestApplicationContext): void {
  apps.set(server, app);
}

export function appOfIoServer(server: Server): INestApplicationContext | undefined {
  return apps.get(server);
}
