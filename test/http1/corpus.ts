// Hostile and ambiguous HTTP/1.1 requests, each with the answer the engine must give. Every case
// must also leave the backend untouched and the connection closed. Used against the engine alone
// (rejects.test.ts) and against the whole data plane (dataplane.test.ts).

export interface HostileCase {
  name: string;
  /** sent in one write */
  bytes: string;
  status: number;
  reason?: string;
}

const H = 'Host: a\r\n';

export const CORPUS: HostileCase[] = [
  // request smuggling: framing that two parsers could read differently
  {
    name: 'Content-Length with Transfer-Encoding',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding before Content-Length',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nG`,
    status: 400,
  },
  {
    name: 'duplicate differing Content-Length',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 10\r\n\r\nabcGET /x HTTP/1.1\r\n\r\n`,
    status: 400,
  },
  {
    name: 'duplicate equal Content-Length',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    status: 400,
  },
  {
    name: 'Content-Length list',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`,
    status: 400,
  },
  {
    name: 'negative Content-Length',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding not ending in chunked',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'Transfer-Encoding gzip only',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabc`,
    status: 400,
  },
  {
    name: 'obfuscated Transfer-Encoding (space before colon)',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  { name: 'obs-fold', bytes: `GET /smuggled HTTP/1.1\r\n${H}X-A: 1\r\n folded\r\n\r\n`, status: 400 },
  {
    name: 'obs-fold with tab',
    bytes: `GET /smuggled HTTP/1.1\r\n${H}X-A: 1\r\n\tfolded\r\n\r\n`,
    status: 400,
  },
  { name: 'bare LF line endings', bytes: `GET /smuggled HTTP/1.1\nHost: a\n\n`, status: 400 },
  {
    name: 'bare LF after one header',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n`,
    status: 400,
  },
  { name: 'bare CR in a value', bytes: `GET /smuggled HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, status: 400 },
  { name: 'NUL in a value', bytes: `GET /smuggled HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, status: 400 },
  {
    name: 'bad chunk size',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'chunk size overflow',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'chunk data longer than its size',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`,
    status: 400,
  },
  // request line
  { name: 'HTTP/0.9 (no version)', bytes: `GET /smuggled\r\n\r\n`, status: 400 },
  { name: 'HTTP/0.9 with CRLF in the target', bytes: `GET /smuggled\r\nHost: a\r\n\r\n`, status: 400 },
  { name: 'HTTP/2.0 on an HTTP/1 request line', bytes: `GET /smuggled HTTP/2.0\r\n${H}\r\n`, status: 505 },
  { name: 'HTTP/1.2', bytes: `GET /smuggled HTTP/1.2\r\n${H}\r\n`, status: 505 },
  { name: 'HTTP/3.0', bytes: `GET /smuggled HTTP/3.0\r\n${H}\r\n`, status: 505 },
  { name: 'lower-case version', bytes: `GET /smuggled http/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'space in the target', bytes: `GET /smug gled HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'unknown method', bytes: `FOO /smuggled HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'CONNECT', bytes: `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`, status: 405 },
  { name: 'relative target', bytes: `GET smuggled HTTP/1.1\r\n${H}\r\n`, status: 400 },
  // Host
  {
    name: 'missing Host on HTTP/1.1',
    bytes: `GET /smuggled HTTP/1.1\r\n\r\n`,
    status: 400,
    reason: 'missing-host',
  },
  {
    name: 'duplicate Host',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: other.example\r\nHost: a\r\n\r\n`,
    status: 400,
    reason: 'duplicate-host',
  },
  {
    name: 'duplicate equal Host',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n`,
    status: 400,
    reason: 'duplicate-host',
  },
  {
    name: 'Host with a path',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: a/b?c\r\n\r\n`,
    status: 400,
    reason: 'invalid-host',
  },
  {
    name: 'Host with userinfo',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: u@a\r\n\r\n`,
    status: 400,
    reason: 'invalid-host',
  },
  {
    name: 'Host with a space',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: a b\r\n\r\n`,
    status: 400,
    reason: 'invalid-host',
  },
  {
    name: 'empty Host',
    bytes: `GET /smuggled HTTP/1.1\r\nHost: \r\n\r\n`,
    status: 400,
    reason: 'invalid-host',
  },
  {
    name: 'absolute-form authority differs from Host',
    bytes: `GET http://other.example/smuggled HTTP/1.1\r\nHost: a\r\n\r\n`,
    status: 400,
    reason: 'host-mismatch',
  },
  {
    name: 'absolute-form with userinfo',
    bytes: `GET http://u@a/smuggled HTTP/1.1\r\nHost: a\r\n\r\n`,
    status: 400,
    reason: 'invalid-request-target',
  },
  {
    name: 'absolute-form with another scheme',
    bytes: `GET ftp://a/smuggled HTTP/1.1\r\nHost: a\r\n\r\n`,
    status: 400,
    reason: 'invalid-request-target',
  },
  // limits
  {
    name: 'more header fields than allowed',
    bytes: `GET /smuggled HTTP/1.1\r\n${H}${'X-N: 1\r\n'.repeat(150)}\r\n`,
    status: 431,
    reason: 'too-many-headers',
  },
  {
    name: 'header section over the size limit',
    bytes: `GET /smuggled HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20000)}\r\n\r\n`,
    status: 431,
    reason: 'headers-too-large',
  },
  {
    name: 'URI over the limit',
    bytes: `GET /${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    reason: 'uri-too-long',
  },
  {
    name: 'URI over the header size limit',
    bytes: `GET /${'a'.repeat(20000)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    reason: 'uri-too-long',
  },
  // upgrades
  {
    name: 'WebSocket upgrade with a Content-Length body',
    bytes: `GET /smuggled HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello`,
    status: 400,
    reason: 'upgrade-with-body',
  },
  {
    name: 'WebSocket upgrade with a chunked body',
    bytes: `POST /smuggled HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    status: 400,
    reason: 'upgrade-with-body',
  },
  { name: 'unknown Expect', bytes: `GET /smuggled HTTP/1.1\r\n${H}Expect: 200-ok\r\n\r\n`, status: 417 },
];
