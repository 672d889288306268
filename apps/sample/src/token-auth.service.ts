import { Injectable } from '@nestjs/common';
import type { WsUser } from '@tracing-ws/nestjs';
import { loadConfig } from './config.js';

/** Demo authentication: fixed tokens from SAMPLE_TOKENS. Replace with your identity provider. */
@Injectable()
export class TokenAuthService {
  private readonly tokens = loadConfig().tokens;

  async verify(token: string): Promise<WsUser | null> {
    const user = this.tokens.get(token);
    return user ? { id: user } : null;
  }
}
