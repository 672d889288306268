// Node, against the sample started with TRANSPORT=socket.io: TracingIoClient on the official client
import { TracingIoClient } from '@tracing-ws/client/socket.io';
import { io } from 'socket.io-client';

const chat = new TracingIoClient(io('http://localhost:3000/chat', { extraHeaders: { authorization: 'Bearer alice-token' } }));
chat.on('refused', (err) => console.log(err.userMessage, err.supportText)); // a bad token: no retry
chat.subscribe<{ user: string; text: string; traceId: string }>('message', (m) => console.log(`${m.user}: ${m.text} (trace ${m.traceId})`));

const session = await chat.connect(); // session.traceId is the trace_id of the sample's ws.connected line
await chat.request('join', { room: 'lobby' });
const sent = await chat.request<{ delivered: number }>('message', { room: 'lobby', text: 'hi' });
console.log(`delivered to ${sent.data.delivered}: trace_id ${sent.traceId} in the log (session ${session.traceId})`);
