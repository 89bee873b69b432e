// Gateway API durations (`250ms`, `1m30s`) to milliseconds. The schema has already checked the form.

const PART = /([0-9]+)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function durationMs(value: string | undefined, fallback = 0): number {
  if (value === undefined || value === '') return fallback;
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(PART)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched += m[0];
  }
  if (matched !== value) throw new Error(`not a duration: ${JSON.stringify(value)}`);
  return total;
}
