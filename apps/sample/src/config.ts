/** The sample's settings, all from the environment, with embedded defaults. */
export interface SampleConfig {
  port: number;
  host: string;
  logLevel: string;
  /** token → user id */
  tokens: Map<string, string>;
  allowedOrigins: string[];
  /** `REDIS_URL`: relay broadcasts and presence through Redis (several instances); unset: one process, in memory. */
  redisUrl: string | undefined;
  /** `REDIS_PRESENCE_TTL_MS`: how long a crashed instance's presence entries survive (library default when unset). */
  redisPresenceTtlMs: number | undefined;
}

/** Parses `token:user` pairs, comma separated. */
export function parseTokens(spec: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const pair of spec.split(',')) {
    const [token, user] = pair.split(':').map((s) => s.trim());
    if (!token || !user) throw new Error(`SAMPLE_TOKENS: "${pair}" is not a token:user pair`);
    tokens.set(token, user);
  }
  return tokens;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: "${env.PORT}" is not a port number`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    logLevel: env.LOG_LEVEL ?? 'info',
    tokens: parseTokens(env.SAMPLE_TOKENS ?? 'alice-token:alice,bob-token:bob'),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    redisUrl: env.REDIS_URL || undefined,
    redisPresenceTtlMs: env.REDIS_PRESENCE_TTL_MS ? Number(env.REDIS_PRESENCE_TTL_MS) : undefined,
  };
}
