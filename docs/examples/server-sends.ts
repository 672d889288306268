// export.gateway.ts: a long job that reports progress to the socket that asked for it
import { Injectable } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, WsContextService } from '@tracing-ws/nestjs';

@Injectable()
export class ExportJobs {
  constructor(private readonly broadcaster: WsBroadcaster) {}

  /** Runs outside the handler (a timer); each push is a traced `send progress` to one connection. */
  start(connectionId: string): void {
    let done = 0;
    const timer = setInterval(() => {
      done += 25;
      // 0 when the connection is on another instance (Redis delivers it there) or gone.
      this.broadcaster.toConnection(connectionId).emit('progress', { done });
      if (done >= 100) clearInterval(timer);
    }, 1000);
  }
}

@TracedGateway()
@WebSocketGateway({ path: '/exports' })
export class ExportGateway {
  constructor(
    private readonly jobs: ExportJobs,
    private readonly context: WsContextService,
  ) {}

  @SubscribeMessage('export')
  export() {
    this.jobs.start(this.context.connectionId!);
    return { event: 'export', data: { started: true } };
  }
}
