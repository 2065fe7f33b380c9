/**
 * How our daemon tells a plugin which CNI code a failure has: net/rpc carries only an error
 * text, so the code rides at its end, " [code 11]". The reference plugin shows the text as it
 * is (still readable); ours takes the code off and reports it.
 */
const CODE_TAG = /\s\[code (\d{1,4})\]$/;

export function withCode(message: string, code: number): string {
  return `${message} [code ${code}]`;
}

export function splitCode(text: string): { message: string; code: number | undefined } {
  const match = CODE_TAG.exec(text);
  if (!match) return { message: text, code: undefined };
  return { message: text.slice(0, match.index), code: Number(match[1]) };
}
