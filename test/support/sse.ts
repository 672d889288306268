import { waitFor } from './wait.js';

/** A Server-Sent Events stream read with fetch (as the operator page does): every `data:` line parsed as JSON. */
export class SseStream {
  readonly events: Array<Record<string, unknown>> = [];
  /** Every byte received, as text: for asserting what must not appear. */
  text = '';
  status = 0;
  contentType = '';
  readonly ended: Promise<void>;
  private readonly abort = new AbortController();

  private constructor(private readonly response: Promise<Response>) {
    this.ended = this.read();
  }

  /** Opens `url` with `headers`; resolves once the response's headers arrived. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
    const abort = new AbortController();
    const stream = new SseStream(fetch(url, { headers, signal: abort.signal }));
    Object.assign(stream, { abort });
    await stream.response;
    return stream;
  }

  private async read(): Promise<void> {
    const res = await this.response;
    this.status = res.status;
    this.contentType = res.headers.get('content-type') ?? '';
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true });
        this.text += text;
        buffered += text;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.startsWith('data: ')) this.events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** Events matching every field of `match`. */
  find(match: Record<string, unknown>): Array<Record<string, unknown>> {
    return this.events.filter((e) => Object.entries(match).every(([k, v]) => e[k] === v));
  }

  async waitFor(match: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return waitFor(() => this.find(match)[0], timeoutMs, `SSE event ${JSON.stringify(match)}; got ${JSON.stringify(this.events.slice(-5))}`);
  }

  close(): void {
    this.abort.abort();
  }
}
