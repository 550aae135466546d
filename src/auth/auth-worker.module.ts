import { Module } from '@nestjs/common';
import { AuthModule } from './auth.module.js';
import { PendingGrantsSweeper } from './pending-grants.sweeper.js';

/** Auth housekeeping in worker processes (ROLE=worker or all): ends unconfirmed grants. */
@Module({
  imports: [AuthModule],
  providers: [PendingGrantsSweeper],
})
export class AuthWorkerModule {}
