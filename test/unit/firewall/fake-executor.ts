import type { ToolExecutor, ToolOutput } from "../../../lib/firewall/exec.ts";

export interface RecordedCall {
  tool: string;
  args: readonly string[];
  input: string | undefined;
}

type Answer = Partial<ToolOutput> | ((call: RecordedCall) => Partial<ToolOutput>);

/**
 * Stands in for the firewall tools: answers each tool with what the test scripted (success
 * with empty output by default) and records every call, scripts included.
 */
export class FakeExecutor implements ToolExecutor {
  readonly calls: RecordedCall[] = [];

  constructor(private readonly answers: Record<string, Answer> = {}) {}

  run(tool: string, args: readonly string[], input?: string): ToolOutput {
    const call = { tool, args, input };
    this.calls.push(call);
    const answer = this.answers[`${tool} ${args.join(" ")}`] ?? this.answers[tool] ?? {};
    const output = typeof answer === "function" ? answer(call) : answer;
    return { status: 0, stdout: "", stderr: "", ...output };
  }

  /** The scripts fed to a tool, in order. */
  scripts(tool: string): string[] {
    return this.calls.filter((call) => call.tool === tool && call.input !== undefined).map((call) => call.input!);
  }
}
