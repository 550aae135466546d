import { Module } from '@nestjs/common';
import { LinkDetector } from './link-detector.service.js';
import { LinksModule } from './links.module.js';
import { UserLinkPass } from './user-link-pass.js';

/** The link detector's poller and its per-user pass (ROLE=worker or all). */
@Module({
  imports: [LinksModule],
  providers: [UserLinkPass, LinkDetector],
  exports: [UserLinkPass, LinkDetector],
})
export class LinksWorkerModule {}
