import type { TracingWsClient, WsClientEvents } from '@tracing-ws/client';

/** Resolves with the next `type` event of `client` that satisfies `match`, or fails after `timeoutMs`. */
export function nextEvent<K extends keyof WsClientEvents>(client: TracingWsClient, type: K, match: (e: WsClientEvents[K]) => boolean = () => true, timeoutMs = 5000): Promise<WsClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${String(type)}"`));
    }, timeoutMs);
    const off = client.on(type, (e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

/** Records every event of `client`, in order, as `[type, payload]`. */
export function recordEvents(client: TracingWsClient): Array<[keyof WsClientEvents, unknown]> {
  const log: Array<[keyof WsClientEvents, unknown]> = [];
  for (const type of ['connecting', 'open', 'reconnecting', 'closed', 'error', 'rejoined'] as const) client.on(type, (e) => log.push([type, e]));
  return log;
}
