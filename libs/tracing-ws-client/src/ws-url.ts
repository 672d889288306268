/**
 * The socket URL: `base` resolved against the page in a browser (`/chat`,
 * `http(s)://` become `ws(s)://`), with `params` set in the query string.
 */
export function buildSocketUrl(base: string, params: Readonly<Record<string, string | undefined>>): string {
  const page = (globalThis as { location?: { href?: unknown } }).location?.href;
  let url: URL;
  try {
    url = new URL(base, typeof page === 'string' ? page : undefined);
  } catch {
    throw new Error(`TracingWsClient: url "${base}" is not absolute; outside a browser pass ws://host:port/path`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`TracingWsClient: url "${base}" must use ws:, wss:, http: or https:`);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}
