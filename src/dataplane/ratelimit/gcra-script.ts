// The Global-mode decision: GCRA (generic cell rate algorithm) in one Lua script, run atomically by
// Redis with EVALSHA (EVAL when the server answers NOSCRIPT). It is the same limit as the Local token
// bucket, stored as one number per key: the theoretical arrival time (TAT) of the next request.
//
//   interval = period / requests            (µs per token)
//   horizon  = (requests + burst) * interval (how far ahead of now the TAT may run: the capacity)
//   tat      = max(stored TAT, now);  new = tat + cost * interval
//   new - now > horizon  → limited (nothing stored); retry after (new - now - horizon)
//   otherwise            → allowed; store `new` with a TTL of (new - now): the key vanishes when full
//
// `now` is Redis's own clock (TIME), so data planes with skewed clocks share one timeline. Redis 5+
// replicates the script's effects (the SET), not the script, so TIME inside a writing script is safe.
// The key is hash-tagged as a whole (`{...}`): one decision touches one key, so a Redis Cluster
// routes the script to the node that owns it.
//
// ARGV: interval (µs, may be fractional), capacity (tokens), cost. Reply: {allowed 0|1, remaining
// whole tokens, retry-after ms, ms until full}.

import { createHash } from 'node:crypto';

export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2]) * interval
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local ahead = tat + cost * interval - now
if ahead > horizon then
  return {0, math.floor((horizon - (tat - now)) / interval), math.ceil((ahead - horizon) / 1000), math.ceil((tat - now) / 1000)}
end
redis.call('SET', KEYS[1], string.format('%.0f', now + ahead), 'PX', math.ceil(ahead / 1000) + 1)
return {1, math.floor((horizon - ahead) / interval), 0, math.ceil(ahead / 1000)}
`;

export const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex');

/** The Redis key of one counter: prefix, rule id and key value, all inside one hash tag. */
export function redisKey(ruleId: string, key: string): string {
  return '{bh:rl:' + ruleId + '|' + key + '}';
}
