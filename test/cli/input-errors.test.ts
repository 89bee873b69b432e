// The CLI as a tool people script: every user error is one coded line on stderr (no stack frames)
// with the documented exit code (0 ok, 1 invalid or no objects, 2 usage or input errors); `-f -`
// reads stdin; `render -o status` exits 1 when an object is not Accepted.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const bin = fileURLToPath(new URL('../../bin/bulkhead.mjs', import.meta.url));
const examples = fileURLToPath(new URL('../../examples', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { cwd?: string; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.stdin!.end(opts.stdin ?? '');
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function oneLine(r: Run, pattern: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack frames');
}

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bh-cli-'));
  await writeFile(
    join(dir, 'broken.yaml'),
    'apiVersion: bulkhead.dev/v1alpha1\nkind: RouteSplit\nspec: [1, 2\nx: 3\n',
  );
  await writeFile(join(dir, 'notes.txt'), 'these are my notes, not a manifest\n');
  await writeFile(join(dir, 'image.yaml'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
  await writeFile(
    join(dir, 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n',
  );
  await mkdir(join(dir, 'empty', 'nested'), { recursive: true });
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a YAML syntax error names file:line:column, exit 2', async () => {
  const r = await run(['validate', '-f', 'broken.yaml'], { cwd: dir });
  assert.is(r.code, 2);
  oneLine(r, /^bulkhead validate: BH_ERR_INPUT_YAML: broken\.yaml:4:1: /);
});

test('a missing path is reported, exit 2', async () => {
  for (const cmd of ['validate', 'render']) {
    const r = await run([cmd, '-f', 'exmaples/'], { cwd: dir });
    assert.is(r.code, 2, cmd);
    oneLine(r, new RegExp(`^bulkhead ${cmd}: BH_ERR_INPUT_NOT_FOUND: exmaples/: no such file or directory$`));
  }
});

test('a file that is not YAML manifests is reported, exit 2', async () => {
  const text = await run(['validate', '-f', 'notes.txt'], { cwd: dir });
  assert.is(text.code, 2);
  oneLine(text, /BH_ERR_INPUT_NOT_MANIFEST: notes\.txt:1: document 1 is plain text, not a Kubernetes object/);
  const binary = await run(['render', '-f', 'image.yaml'], { cwd: dir });
  assert.is(binary.code, 2);
  oneLine(binary, /^bulkhead render: BH_ERR_INPUT_NOT_MANIFEST: image\.yaml: binary data/);
});

test('an empty directory or an input without Bulkhead objects fails, exit 1', async () => {
  const empty = await run(['validate', '-f', 'empty'], { cwd: dir });
  assert.is(empty.code, 1);
  oneLine(empty, /BH_ERR_INPUT_EMPTY: no Bulkhead objects \(bulkhead\.dev\) in empty \(add -R/);
  const services = await run(['render', '-f', 'service.yaml'], { cwd: dir });
  assert.is(services.code, 1);
  oneLine(services, /^bulkhead render: BH_ERR_INPUT_EMPTY: no Bulkhead objects/);
  const nothing = await run(['validate', '-f', '-'], { stdin: '' });
  assert.is(nothing.code, 1);
  oneLine(nothing, /BH_ERR_INPUT_EMPTY: no Bulkhead objects \(bulkhead\.dev\) in <stdin>$/);
});

test('-f - reads stdin, as kubectl does; errors there say <stdin>', async () => {
  const storefront = await readFile(join(examples, 'storefront.yaml'), 'utf8');
  const ok = await run(['validate', '-f', '-'], { stdin: storefront });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /^\d+ Bulkhead object\(s\) checked, 0 invalid\n$/);
  const bad = await run(['validate', '-f', '-'], { stdin: 'kind: [\n' });
  assert.is(bad.code, 2);
  oneLine(bad, /BH_ERR_INPUT_YAML: <stdin>:\d+:\d+: /);
  const all = await readFile(join(examples, '00-namespaces.yaml'), 'utf8');
  const rendered = await run(['render', '-f', '-', '-o', 'status'], { stdin: all + '\n---\n' + storefront });
  assert.is(rendered.code, 0, rendered.stderr);
  assert.match(rendered.stdout, /ingressPools:/);
});

test('render -o status exits 1 and names what is not Accepted', async () => {
  const orphan = [
    'apiVersion: bulkhead.dev/v1alpha1',
    'kind: RouteSplit',
    'metadata: {name: lost, namespace: shop}',
    'spec:',
    '  poolRef: {name: nowhere}',
    '  hostnames: [shop.example.com]',
    '  rules: [{backends: [{name: web, port: 80}]}]',
  ].join('\n');
  const r = await run(['render', '-f', '-', '-o', 'status'], { stdin: orphan });
  assert.is(r.code, 1, r.stderr);
  oneLine(r, /^bulkhead render: not Accepted: RouteSplit shop\/lost$/);
});

test('usage errors exit 2; completion prints a script', async () => {
  const missing = await run(['validate']);
  assert.is(missing.code, 2);
  oneLine(missing, /required option '-f, --filename/);
  const shell = await run(['completion', 'bash']);
  assert.is(shell.code, 0);
  assert.match(shell.stdout, /complete -o default -F _bulkhead bulkhead/);
  assert.match(shell.stdout, /validate\) opts="-f --filename -R --recursive/);
});

test.run();
