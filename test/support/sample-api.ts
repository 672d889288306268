/** What the sample answers on GET /health when a broadcast backend is configured. */
export interface Health {
  status: string;
  broadcast?: { backend: string; up: boolean; instanceId: string };
}

/** What GET /rooms/:room/members answers (across instances with Redis). */
export interface Members {
  complete: boolean;
  members: Array<{ connectionId: string; instanceId: string; userId?: string }>;
}
