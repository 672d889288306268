/** Placeholder until the client lands (issue 6). */
export const TRACING_WS_CLIENT_VERSION = '0.1.0';
