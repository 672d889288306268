import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a server, to cut a client's connection the way a network does:
 * both sockets destroyed, no close frame, no FIN the peer could read as a goodbye. While
 * `blocked`, new connections are cut at once (the network is still down).
 */
export class TcpProxy {
  blocked = false;
  /** Where new connections go (switch it to move a client to another instance at its next reconnect). */
  target: number;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    target: number,
  ) {
    this.target = target;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.blocked) return void client.resetAndDestroy();
      const upstream = connect(proxy.target, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      const drop = (): void => {
        proxy!.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0, targetPort);
    return proxy;
  }

  /** Connections relayed right now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Cuts every relayed connection (RST to the client, the server's side just vanishes). */
  cut(): void {
    for (const [client, upstream] of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
