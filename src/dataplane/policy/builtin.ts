// The policy kinds every data plane has. src/dataplane/index.ts imports this module, so whatever
// starts a data plane (CLI, cluster workers, tests, the demo) has them registered exactly once.

import '../ratelimit/index.ts';
