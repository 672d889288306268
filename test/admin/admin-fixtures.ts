import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { TracedGateway, TracingWsAdminModule, WsBroadcaster, type TracingWsAdminOptions, type WsAdminRequest } from '@tracing-ws/nestjs';
import { CONFORMANCE_PATH } from '../conformance/harness.js';

/** The operator's credential in the admin tests. */
export const ADMIN_TOKEN = 'operator-secret-7f3a';
export const ADMIN_HEADERS = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The admin surface as a test app mounts it: a bearer token checked by the hook. */
export function adminModule(options: Partial<TracingWsAdminOptions> = {}) {
  return TracingWsAdminModule.forRoot({
    canActivate: (req: WsAdminRequest) => req.headers.authorization === `Bearer ${ADMIN_TOKEN}`,
    ...options,
  });
}

/** A chat-like gateway: join a room, say something (echoed as `said`), fail on request. */
@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
export class AdminChatGateway {
  constructor(private readonly broadcaster: WsBroadcaster) {}

  @SubscribeMessage('join')
  join(socket: unknown, data: { room: string }) {
    this.broadcaster.join(socket, data.room);
    return { event: 'join', data: { room: data.room } };
  }

  @SubscribeMessage('say')
  say(_socket: unknown, data: { text: string; password?: string }) {
    return { event: 'say', data: { text: data.text } };
  }

  /** A plain reply (an acknowledgement on socket.io). */
  @SubscribeMessage('echo')
  echo(_socket: unknown, data: unknown) {
    return data;
  }

  @SubscribeMessage('fail')
  fail() {
    throw new WsException('nope');
  }
}
