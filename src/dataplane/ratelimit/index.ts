// Rate limits in the policy chain: phase 300 (after CORS preflights and authentication, before the
// route picks a backend). Importing this module registers the policy kind once per process.

import { registerPolicy } from '../policy/index.ts';
import { makeRateLimitPolicy } from './policy.ts';

registerPolicy(300, makeRateLimitPolicy);

export { makeRateLimitPolicy, RateLimited, RateLimitUnavailable } from './policy.ts';
