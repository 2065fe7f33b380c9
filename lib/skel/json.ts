import { CniError, ErrorCode } from "../core/index.ts";

/**
 * The one JSON decoder for untrusted text: stdin, a delegated plugin's answer, files read back.
 * JSON.parse alone is not enough: it follows any nesting (and what later walks the value may
 * overflow the stack), and it keeps the last of duplicate keys silently. So the text is first
 * scanned once, linearly and without recursion, for its nesting depth, and nesting deeper than
 * the reference's decoder accepts (Go's encoding/json: 10,000) is refused with code 6.
 */

/** Go's encoding/json refuses objects and arrays nested deeper than this. */
export const MAX_JSON_DEPTH = 10_000;

/** Decodes JSON text; code 6 naming `what` when it is not JSON or nested deeper than MAX_JSON_DEPTH. */
export function decodeJson(text: string, what: string): unknown {
  const depth = nestingDepth(text, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new CniError(ErrorCode.DecodingFailure, `${what} is nested more than ${MAX_JSON_DEPTH} levels deep (the limit of JSON decoders in CNI)`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CniError(ErrorCode.DecodingFailure, `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The deepest nesting of objects and arrays in the text, ignoring brackets inside strings; stops
 * counting as soon as it passes `stopAbove`. Linear in the text, whether or not it is valid JSON.
 */
export function nestingDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      at = endOfString(text, at);
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Keys given more than once in one object, each as its path (["sysctl", "net.core.somaxconn"];
 * array elements by index, as strings). JSON.parse keeps the last of them without a word; a
 * plugin that must refuse an ambiguous key asks here. Only objects whose path `within` accepts
 * are looked into, and `within` must accept a path's prefixes whenever it accepts the path
 * (it is asked only below objects and arrays it accepted), which keeps the scan linear however
 * deep the text is. The text must be valid JSON (decode it first).
 */
export function findDuplicateKeys(text: string, within: (path: readonly string[]) => boolean): string[][] {
  const found: string[][] = [];
  // One frame per open object or array; the path only where it is looked into.
  const frames: { object: boolean; path: string[] | undefined; keys: Set<string> | undefined; key: string; index: number }[] = [];
  const open = (object: boolean) => {
    const parent = frames.at(-1);
    let path: string[] | undefined;
    if (!parent) path = [];
    else if (parent.path) path = [...parent.path, parent.object ? parent.key : String(parent.index)];
    if (path && !within(path)) path = undefined;
    frames.push({ object, path, keys: object && path ? new Set() : undefined, key: "", index: 0 });
  };
  let expectingKey = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    const frame = frames.at(-1);
    if (code === QUOTE) {
      const end = endOfString(text, at);
      if (frame?.object && expectingKey) {
        if (frame.keys) {
          const key = JSON.parse(text.slice(at, end + 1)) as string;
          if (frame.keys.has(key)) found.push([...frame.path!, key]);
          frame.keys.add(key);
          frame.key = key;
        }
        expectingKey = false;
      }
      at = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      open(code === OPEN_BRACE);
      expectingKey = code === OPEN_BRACE;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      frames.pop();
      expectingKey = false;
    } else if (code === COMMA && frame) {
      if (frame.object) expectingKey = true;
      else frame.index++;
    }
  }
  return found;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The index of the quote closing the string that starts at `start` (or the text's end). */
function endOfString(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) at++;
    else if (code === QUOTE) return at;
  }
  return text.length;
}
