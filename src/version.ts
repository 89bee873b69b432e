// The one place that defines Bulkhead's version and image reference. The version is package.json's;
// the image is `<registry>/<name>:<version>`. `dist/install.yaml`, the Helm chart, the synthesizer's
// default pool image and `npm run image` all take the reference from here, so a release bumps one
// field (package.json "version").

import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const VERSION: string = pkg.version;
export const IMAGE_REGISTRY = 'ghcr.io/bulkhead-dev';
export const IMAGE_NAME = 'bulkhead';
export const IMAGE_REPOSITORY = `${IMAGE_REGISTRY}/${IMAGE_NAME}`;
export const IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;
export const SOURCE_URL = 'https://github.com/bulkhead-dev/bulkhead';
