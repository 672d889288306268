// user-type.ts: once, anywhere in the app
import type { User } from './users.js';

declare module '@tracing-ws/nestjs' {
  interface WsUserTypes {
    user: User;
  }
}
