// The gRPC-Web wire helpers: which content types are gRPC-Web and what they become on each side,
// base64 request bodies split anywhere (also several padded segments in a row), the trailer frame.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Base64StreamDecoder,
  downstreamContentType,
  GRPC_WEB_BINARY,
  GRPC_WEB_NONE,
  GRPC_WEB_TEXT,
  grpcWebMode,
  trailerFrame,
  upstreamContentType,
} from '../../src/dataplane/grpc-web/codec.ts';

test('content types', () => {
  const cases: [string | undefined, number, string][] = [
    ['application/grpc-web', GRPC_WEB_BINARY, 'application/grpc'],
    ['application/grpc-web+proto', GRPC_WEB_BINARY, 'application/grpc+proto'],
    ['application/grpc-web-text', GRPC_WEB_TEXT, 'application/grpc'],
    ['application/grpc-web-text+proto', GRPC_WEB_TEXT, 'application/grpc+proto'],
    ['application/grpc-web+json', GRPC_WEB_BINARY, 'application/grpc+json'],
  ];
  for (const [ct, mode, up] of cases) {
    assert.is(grpcWebMode(ct), mode, ct);
    assert.is(upstreamContentType(ct!, mode), up, ct);
  }
  for (const ct of [
    undefined,
    'application/grpc',
    'application/grpc+proto',
    'application/grpc-webx',
    'text/plain',
  ])
    assert.is(grpcWebMode(ct), GRPC_WEB_NONE, String(ct));
  assert.is(downstreamContentType('application/grpc', GRPC_WEB_BINARY), 'application/grpc-web+proto');
  assert.is(downstreamContentType('application/grpc+json', GRPC_WEB_TEXT), 'application/grpc-web-text+json');
  assert.is(downstreamContentType(undefined, GRPC_WEB_TEXT), 'application/grpc-web-text+proto');
});

test('base64 stream decoding: every split point, padded segments back to back, whitespace', () => {
  const a = Buffer.from([0, 0, 0, 0, 1, 0x41]); // 6 bytes: no padding
  const b = Buffer.from([0, 0, 0, 0, 2, 0x42, 0x43]); // 7 bytes: '=' padding
  const c = Buffer.from([0x80, 0, 0, 0, 0]); // 5 bytes: '=' padding
  const text = b.toString('base64') + c.toString('base64') + a.toString('base64');
  const want = Buffer.concat([b, c, a]);
  for (let cut = 0; cut <= text.length; cut++) {
    for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
      const d = new Base64StreamDecoder();
      const out = Buffer.concat([
        d.push(Buffer.from(text.slice(0, cut))),
        d.push(Buffer.from(text.slice(cut, cut2))),
        d.push(Buffer.from(text.slice(cut2))),
      ]);
      assert.equal([...out], [...want], `cuts ${cut}/${cut2}`);
      assert.ok(d.complete);
    }
  }
  const d = new Base64StreamDecoder();
  assert.equal([...d.push(Buffer.from(' QUJD\r\nREVG '))], [...Buffer.from('ABCDEF')]);
  assert.throws(() => new Base64StreamDecoder().push(Buffer.from('QU*D')));
  const partial = new Base64StreamDecoder();
  partial.push(Buffer.from('QUJ'));
  assert.not.ok(partial.complete);
});

test('trailer frame: flag 0x80, length, lower-case name:value lines, no pseudo-headers', () => {
  const f = trailerFrame({
    'grpc-status': '0',
    'Grpc-Message': 'ok',
    ':status': '200',
    'x-multi': ['a', 'b'],
  });
  assert.is(f[0], 0x80);
  const body = f.subarray(5).toString('latin1');
  assert.is(f.readUInt32BE(1), body.length);
  assert.is(body, 'grpc-status:0\r\ngrpc-message:ok\r\nx-multi:a\r\nx-multi:b\r\n');
});

test.run();
