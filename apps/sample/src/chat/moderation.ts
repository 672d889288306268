import { Body, Controller, HttpCode, Injectable, Post } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';

const BLOCKED = /\b(spam|scam)\b/i;

/** A stand-in moderation service: an HTTP endpoint that may live anywhere. */
@Controller('moderation')
export class ModerationController {
  @Post('check')
  @HttpCode(200)
  check(@Body() body: { text?: unknown }) {
    return { allowed: typeof body?.text === 'string' && !BLOCKED.test(body.text) };
  }
}

/**
 * Calls the moderation endpoint with fetch. The OpenTelemetry undici
 * instrumentation sends the message span's traceparent with the request, so the
 * moderation call shows up in the same trace as the chat message.
 */
@Injectable()
export class ModerationClient {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async allowed(text: string): Promise<boolean> {
    const { port } = this.adapterHost.httpAdapter.getHttpServer().address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/moderation/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) throw new Error(`moderation answered ${res.status}`);
    return ((await res.json()) as { allowed: boolean }).allowed;
  }
}
