/**
 * Object keys that appear twice in one object of a JSON text, each as its path ["sysctl",
 * "net.core.somaxconn"]. JSON.parse silently keeps the last of them; the reference refuses a
 * sysctl given twice, so this plugin has to see the text itself. The text must already be
 * valid JSON (the dispatcher has parsed it), which keeps this scanner small.
 */
export function duplicateKeys(text: string): string[][] {
  const found: string[][] = [];
  let at = 0;

  const skipSpace = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const readString = (): string => {
    const start = at++;
    while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  /** Reads one value and the space after it; at ends on the next structural character. */
  const readValue = (path: string[]): void => {
    skipSpace();
    const opening = text[at];
    if (opening === "{" || opening === "[") {
      at++;
      const seen = new Set<string>();
      let index = 0;
      skipSpace();
      while (text[at] !== "}" && text[at] !== "]") {
        if (opening === "{") {
          skipSpace();
          const key = readString();
          if (seen.has(key)) found.push([...path, key]);
          seen.add(key);
          skipSpace();
          at++; // the colon
          readValue([...path, key]);
        } else {
          readValue([...path, String(index++)]);
        }
        if (text[at] === ",") at++;
      }
      at++;
    } else if (opening === '"') {
      readString();
    } else {
      while (at < text.length && !",]} \t\n\r".includes(text[at]!)) at++;
    }
    skipSpace();
  };

  readValue([]);
  return found;
}
