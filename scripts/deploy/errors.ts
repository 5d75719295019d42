/**
 * Deployer-facing errors. A `DeployError` is a mistake the deployer can fix (bad config, missing
 * variable, wrong password, unfunded account, unknown network): the CLI prints its problems as one
 * message, without a stack trace, and exits non-zero. Anything else is reported by its first line.
 */

/** A problem the deployer can fix; `problems` holds one line per problem, all of them at once. */
export class DeployError extends Error {
  /**
   * The last one constructed in this process. hardhat-deploy re-wraps what a deploy script throws
   * into a new `Error` ("ERROR processing …: <stack>"), losing the object; the deploy task finds
   * the original here.
   */
  static last: DeployError | undefined;

  constructor(
    readonly headline: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${headline}\n${problems.map((p) => `  - ${p}`).join("\n")}` : headline);
    this.name = "DeployError";
    DeployError.last = this;
  }
}

/** Stack frames ("    at fn (file:1:2)") and hardhat-deploy's wrapper line, removed from a message. */
export function cleanMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw
    .replace(/^ERROR processing [^\n]*:\n/, "")
    .split("\n")
    .filter((line) => !/^\s+at\s/.test(line));
  // Drop leading "Error: " / "TypeError: " etc. left by the wrapper.
  if (lines.length > 0) lines[0] = lines[0].replace(/^(\w*Error): /, "");
  return lines.join("\n").trim();
}

/**
 * The message a deployer sees for `error`: the problems of a `DeployError` (also when
 * hardhat-deploy wrapped it), else the cleaned first lines of anything else.
 */
export function userMessage(error: unknown): string {
  if (error instanceof DeployError) return error.message;
  const last = DeployError.last;
  const text = error instanceof Error ? error.message : String(error);
  if (last && text.includes(last.headline)) return last.message;
  const cleaned = cleanMessage(error);
  // ethers errors end with "(action=…, data=…, code=…, version=…)": keep the sentence.
  return cleaned.replace(
    / \((?:action|transaction|info|code|operation|argument|error|payload|value|reason)=[\s\S]*$/,
    "",
  );
}
