// Stand-in for the application's own code (not quoted in the README).

/** The application's user. */
export interface User {
  id: string;
  name: string;
  expiresAt?: number;
}

const USERS = new Map<string, User>([['alice-token', { id: 'alice', name: 'Alice' }]]);

/** The user a bearer token belongs to, or null. */
export async function findUserByToken(token: string): Promise<User | null> {
  return USERS.get(token) ?? null;
}
