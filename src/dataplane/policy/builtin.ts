// The policies every data plane has: importing this module registers them (src/dataplane/index.ts
// and runtime-config.ts import it at start). Most kinds register themselves with their phase on
// import; CORS and gRPC-Web export a factory registered here.

import { registerPolicy } from './index.ts';
import { CORS_PHASE, corsPolicy } from './cors.ts';
import { GRPC_WEB_PHASE, grpcWebPolicy } from './grpc-web.ts';
import './https-redirect.ts';
import './jwt.ts';
import './ext-auth.ts';
import '../ratelimit/index.ts';

registerPolicy(CORS_PHASE, corsPolicy);
registerPolicy(GRPC_WEB_PHASE, grpcWebPolicy);
