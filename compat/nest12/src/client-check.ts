// The packed @tracing-ws/client, imported from an ES module, against the
// running consumer: prints one JSON line with what it saw.
import { TracingWsClient, WsClientError } from '@tracing-ws/client';

const client = new TracingWsClient({ url: process.argv[2]!, token: 'alice-token', reconnect: false });
await client.connect();
const reply = await client.request<{ user?: string }>('whoami', {});
let error: { code: string; traceId?: string } | undefined;
try {
  await client.request('explode', {});
} catch (err) {
  if (err instanceof WsClientError) error = { code: err.code, traceId: err.traceId };
}
client.close();
process.stdout.write(`${JSON.stringify({ user: reply.data.user, connectionTraceId: client.traceId, error })}\n`);
