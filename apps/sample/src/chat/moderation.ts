import { Body, Controller, HttpCode, Injectable, Post } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config.js';

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
 * Calls the moderation endpoint (`MODERATION_URL`, or the stand-in above) with
 * fetch. The OpenTelemetry undici instrumentation sends the message span's
 * traceparent with the request, so the moderation call shows up in the same
 * trace as the chat message.
 */
@Injectable()
export class ModerationClient {
  private readonly url = loadConfig().moderationUrl;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async allowed(text: string): Promise<boolean> {
    const res = await fetch(this.url ?? this.standIn(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) throw new Error(`moderation answered ${res.status}`);
    return ((await res.json()) as { allowed: boolean }).allowed;
  }

  private standIn(): string {
    const { port } = this.adapterHost.httpAdapter.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${port}/moderation/check`;
  }
}
