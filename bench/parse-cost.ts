// Cost per upstream response of three ways to run Node's llhttp binding on a small nginx-style
// answer (a head and a 27-byte Content-Length body), in one process on one core:
//   body    llhttp parses the body too (its body callback copies each slice into a new ArrayBuffer)
//   pause   the head callback pauses; the body is taken from the read (llhttp answers with a native
//           Error per pause, and the parser is initialized again for the next response)
//   nobody  the head alone is fed (cut at CRLF CRLF) and the head callback says "no body"; the
//           body is taken from the read as a pooled copy (what upstream-conn.ts does)
// Usage: taskset -c 0 node --import tsx bench/parse-cost.ts [rounds=3] [n=200000]

import {
  HTTPParser,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
} from '../src/dataplane/http1/parser.ts';

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 28 Nov 2026 13:55:00 GMT\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 27\r\nConnection: keep-alive\r\n\r\n' +
    'x'.repeat(27),
);
const HEAD_END = Buffer.from('\r\n\r\n');
const MODES = ['body', 'pause', 'nobody'] as const;

function nsPerResponse(mode: (typeof MODES)[number], n: number): number {
  const p = new HTTPParser();
  const answer = mode === 'body' ? 0 : mode === 'nobody' ? 1 : 21;
  let bodies = 0;
  p[kOnHeaders] = () => undefined;
  p[kOnHeadersComplete] = () => answer;
  p[kOnBody] = (b: Buffer) => void (bodies += b.length);
  p[kOnMessageComplete] = () => undefined;
  p.initialize(HTTPParser.RESPONSE, {}, 16384, HTTPParser.kLenientNone);
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (mode === 'nobody') {
      const end = RESPONSE.indexOf(HEAD_END) + 4;
      p.execute(RESPONSE.subarray(0, end));
      bodies += Buffer.from(RESPONSE.subarray(end)).length;
    } else {
      const r = p.execute(RESPONSE);
      if (mode === 'pause') {
        if (typeof r === 'number') throw new Error('expected a pause');
        bodies += RESPONSE.length - r.bytesParsed;
        p.initialize(HTTPParser.RESPONSE, {}, 16384, HTTPParser.kLenientNone);
      }
    }
  }
  const ns = Number(process.hrtime.bigint() - t) / n;
  if (bodies !== 27 * n) throw new Error(`${mode}: ${bodies} body bytes, expected ${27 * n}`);
  return ns;
}

const rounds = Number(process.argv[2] ?? 3);
const n = Number(process.argv[3] ?? 200_000);
for (let r = 1; r <= rounds; r++)
  console.log(`round ${r}: ` + MODES.map((m) => `${m} ${nsPerResponse(m, n).toFixed(0)} ns`).join(', '));
