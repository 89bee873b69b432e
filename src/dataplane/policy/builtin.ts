// The data plane's built-in policy kinds, registered once in phase order (see types.ts).
// src/dataplane/index.ts and runtime-config.ts import this module, so whatever starts a data plane
// (CLI, cluster workers, tests, the demo) has them registered exactly once; tests may add their own.

import { registerPolicy } from './index.ts';
import { CORS_PHASE, corsPolicy } from './cors.ts';
import { GRPC_WEB_PHASE, grpcWebPolicy } from './grpc-web.ts';
import '../ratelimit/index.ts';

registerPolicy(CORS_PHASE, corsPolicy);
registerPolicy(GRPC_WEB_PHASE, grpcWebPolicy);
