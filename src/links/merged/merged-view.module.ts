import { Module } from '@nestjs/common';
import { MergePolicyService } from './merge-policy.service.js';
import { MergedViewService } from './merged-view.service.js';

/**
 * The merged view's read side: the configured precedence policy and the merged feed behind
 * GET /v1/items?merged=true (ItemsModule imports this). Reads merged_entries, which the link
 * detector (src/links/) maintains.
 */
@Module({
  providers: [MergePolicyService, MergedViewService],
  exports: [MergePolicyService, MergedViewService],
})
export class MergedViewModule {}
