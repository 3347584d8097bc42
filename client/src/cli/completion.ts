/**
 * `kakunin completion bash|zsh`: a completion script generated from the command tree (subcommands
 * and options at each level). zsh loads the same function through bashcompinit.
 */
import type { Command } from "commander";
import { UsageError } from "./config.js";

function words(cmd: Command): string {
  const subs = cmd.commands.map((c) => c.name());
  const opts = cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  return [...subs, ...opts, "--help"].join(" ");
}

/** Lines `path) words ;;` for every command path (space-joined names below the root). */
function cases(cmd: Command, path: string[] = []): string[] {
  const here = `    "${path.join(" ")}") words="${words(cmd)}" ;;`;
  return [here, ...cmd.commands.flatMap((c) => cases(c, [...path, c.name()]))];
}

export function bashCompletion(program: Command): string {
  const names = new Set<string>();
  const collect = (c: Command) =>
    c.commands.forEach((s) => {
      names.add(s.name());
      collect(s);
    });
  collect(program);
  return `# kakunin completion (bash). Install: kakunin completion bash > /etc/bash_completion.d/kakunin
_kakunin() {
  local cur path="" w words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case " ${[...names].join(" ")} " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  case "$path" in
${cases(program).join("\n")}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _kakunin kakunin
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef kakunin
# kakunin completion (zsh). Install: kakunin completion zsh > "\${fpath[1]}/_kakunin"
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split("\n").slice(1).join("\n")}`;
}

export function completionCommand(program: Command): void {
  program
    .command("completion")
    .argument("<shell>", "bash or zsh")
    .description("print a shell completion script")
    .action((shell: string) => {
      if (shell === "bash") process.stdout.write(bashCompletion(program));
      else if (shell === "zsh") process.stdout.write(zshCompletion(program));
      else throw new UsageError(`unsupported shell "${shell}" (bash or zsh)`);
    });
}
