// The policies every data plane has: importing this module registers them (src/dataplane/index.ts
// imports it at start). One import per policy kind, nothing else, so parallel additions merge.

import './https-redirect.ts';
import './jwt.ts';
import './ext-auth.ts';
