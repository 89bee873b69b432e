// `bulkhead completion bash|zsh`: prints a shell completion script for the commands and their
// flags, generated from the commander program so it cannot drift from the real options.

import type { Command } from 'commander';
import { CliError, reportCliError } from './errors.ts';

function wordsOf(program: Command): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of program.commands) {
    const flags = c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
    out.set(c.name(), flags);
  }
  return out;
}

export function completionScript(program: Command, shell: string): string {
  const words = wordsOf(program);
  const commands = [...words.keys()].join(' ');
  const cases = [...words].map(([name, flags]) => `    ${name}) opts="${flags.join(' ')}" ;;`).join('\n');
  const bash = `# bulkhead completion for bash: source <(bulkhead completion bash)
_bulkhead() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands}" -- "$cur")); return
  fi
  case "$prev" in
    -f|--filename|--snapshot|--kubeconfig|--credential) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _bulkhead bulkhead
`;
  if (shell === 'bash') return bash;
  if (shell === 'zsh')
    return `#compdef bulkhead\n# bulkhead completion for zsh: source <(bulkhead completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
  throw new CliError('BH_ERR_USAGE', `unknown shell ${JSON.stringify(shell)}: use bash or zsh`);
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .argument('<shell>', 'bash | zsh')
    .action((shell: string) => {
      try {
        process.stdout.write(completionScript(program, shell));
      } catch (err) {
        reportCliError('completion', err);
      }
    });
}
