// a plain socket.io-client: the credential and a traceparent in `auth`, the trace ids the server sends back
import { io } from 'socket.io-client';

const socket = io('https://chat.example.com/chat', {
  auth: { token: 'alice-token', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
});
socket.on('tracing-ws:session', ({ traceId }: { traceId: string }) => console.log('session trace id', traceId));
socket.on('connect_error', (err: Error & { data?: { code: string; status: number; traceId: string } }) => {
  // A refused credential: socket.io-client does not retry; show err.data.traceId to the user.
  console.log(err.data?.code, err.data?.traceId);
});

const reply = (await socket.emitWithAck('join', { room: 'lobby' })) as { room: string; $meta: { traceId: string }; error?: { code: string } };
if (reply.error) console.log('refused', reply.error.code, reply.$meta.traceId);
else console.log('joined', reply.room, 'trace', reply.$meta.traceId);
