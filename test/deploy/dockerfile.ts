/**
 * A small Dockerfile reader for the static tests of deploy/Dockerfile (there is no
 * container engine here): instructions with their line, continuation lines joined,
 * comments dropped, `ARG` defaults substituted into `FROM`, stages split at `FROM`.
 */

/** One instruction: its keyword (upper case), flags (`--from=build`), and arguments. */
export interface Instruction {
  line: number;
  keyword: string;
  flags: Record<string, string>;
  /** The words of a shell-form instruction, or the items of a JSON (exec) form. */
  args: string[];
  /** True for the JSON (exec) form. */
  json: boolean;
  /** The text after the keyword, continuation lines joined. */
  raw: string;
}

/** A build stage: its base image (ARGs substituted), its name, its instructions. */
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into instructions. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    const start = i + 1;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue;
      line = line.replace(/\\\s*$/, ' ') + next;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile:${start}: not an instruction: ${line}`);
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    while (keyword !== 'RUN' && keyword !== 'HEALTHCHECK' && /^--[a-z-]+=\S+/.test(rest)) {
      const f = /^--([a-z-]+)=(\S+)\s*/.exec(rest)!;
      flags[f[1]!] = f[2]!;
      rest = rest.slice(f[0].length);
    }
    let args: string[];
    let json = false;
    if (rest.startsWith('[')) {
      args = JSON.parse(rest) as string[];
      json = true;
    } else args = rest.split(/\s+/).filter((w) => w !== '');
    out.push({ line: start, keyword, flags, args, json, raw: rest });
  }
  return out;
}

/** Splits instructions into stages, substituting the global ARG defaults into FROM. */
export function stages(instructions: Instruction[]): Stage[] {
  const args: Record<string, string> = {};
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && out.length === 0) {
      const [k, v] = ins.args[0]!.split('=');
      if (v !== undefined) args[k!] = v;
    } else if (ins.keyword === 'FROM') {
      const image = ins.args[0]!.replace(/\$\{?([A-Za-z_]+)\}?/g, (_, k: string) => args[k] ?? '');
      const as = ins.args.findIndex((a) => a.toUpperCase() === 'AS');
      out.push({ from: image, ...(as >= 0 ? { name: ins.args[as + 1] } : {}), instructions: [] });
    } else {
      if (out.length === 0) throw new Error(`Dockerfile:${ins.line}: ${ins.keyword} before FROM`);
      out[out.length - 1]!.instructions.push(ins);
    }
  }
  return out;
}

/** The sources and destination of a COPY (shell or JSON form). */
export function copyParts(ins: Instruction): { sources: string[]; dest: string } {
  return { sources: ins.args.slice(0, -1), dest: ins.args[ins.args.length - 1]! };
}

/** The `KEY=value` pairs of an ENV instruction (the `ENV KEY value` form too). */
export function envPairs(ins: Instruction): Record<string, string> {
  if (ins.args.length === 2 && !ins.args[0]!.includes('=')) return { [ins.args[0]!]: ins.args[1]! };
  return Object.fromEntries(ins.args.map((a) => a.split('=', 2) as [string, string]));
}
