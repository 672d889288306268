// Stand-in for the application's own code (not quoted in the README).
import { Injectable, Module } from '@nestjs/common';
import { findUserByToken, type User } from './users.js';

@Injectable()
export class AuthService {
  verify(token: string): Promise<User | null> {
    return findUserByToken(token);
  }
}

@Module({ providers: [AuthService], exports: [AuthService] })
export class AuthModule {}
