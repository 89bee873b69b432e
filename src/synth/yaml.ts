// Multi-document YAML of synthesized objects, as `bulkhead render` prints them and as the golden
// files store them: one object per document, in apply order, no line folding (long annotation
// values and the bootstrap snapshot stay on one line, so diffs stay readable) and no YAML
// anchors/aliases, which some GitOps tools and kubectl diffs handle badly.

import { stringify } from 'yaml';
import type { KubeObject } from './canonical.ts';

export function manifestsToYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
