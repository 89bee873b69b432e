// The data plane's built-in policy kinds, registered once in phase order (see types.ts). Importing
// this module is what puts them in every route's chain; tests may register more of their own.

import { registerPolicy } from './index.ts';
import { CORS_PHASE, corsPolicy } from './cors.ts';
import { GRPC_WEB_PHASE, grpcWebPolicy } from './grpc-web.ts';

registerPolicy(CORS_PHASE, corsPolicy);
registerPolicy(GRPC_WEB_PHASE, grpcWebPolicy);
