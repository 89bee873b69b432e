// Regex safety for validation: every RegularExpression value must compile in the data plane's
// linear-time engine, so a pattern that would be refused at run time is refused at admission.

import { checkRegex } from '../regex/index.ts';

export function checkRegexValue(pattern: string): string | null {
  const err = checkRegex(pattern);
  return err === null ? null : `not a supported regular expression: ${err}`;
}
