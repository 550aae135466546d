import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../../core/config/app-config.js';
import {
  type MergedRecord,
  type MergeMember,
  type MergePolicy,
  mergeMembers,
  resolveMergePolicy,
} from './merge-policy.js';

/** The precedence policy as configured (defaults plus MERGE_POLICY), resolved once. */
@Injectable()
export class MergePolicyService {
  readonly policy: MergePolicy;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig) {
    this.policy = resolveMergePolicy(config.mergePolicy);
  }

  merge(members: readonly MergeMember[]): MergedRecord {
    return mergeMembers(members, this.policy);
  }
}
