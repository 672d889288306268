import { Injectable } from '@nestjs/common';

/**
 * The gateway paths a transport serves on the app's own HTTP server, filled by
 * the transport adapter as it creates each gateway server. The handshake check
 * endpoint answers for these paths only, so it never shadows an application route.
 */
@Injectable()
export class WsGatewayRegistry {
  private readonly paths = new Set<string>();

  /** Records that upgrades to `path` (normalised: leading slash, no trailing one) reach a gateway. */
  add(path: string): void {
    this.paths.add(path);
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }
}
