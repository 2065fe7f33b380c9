/**
 * Hardware addresses in every spelling the reference accepts (Go's net.ParseMAC): 6, 8 or 20
 * bytes written as two hex digits per byte separated by ":" or "-", or as groups of four hex
 * digits separated by ".". Returns the kernel's spelling (lowercase, ":"), or undefined.
 */
export function parseMac(text: string): string | undefined {
  const hex = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2})+$/.test(text)
    ? bytePairs(text)
    : /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})+$/.test(text)
      ? text.replaceAll(".", "")
      : undefined;
  if (hex === undefined || !MAC_LENGTHS.includes(hex.length / 2)) return undefined;
  return hex.toLowerCase().replace(/..(?!$)/g, "$&:");
}

const MAC_LENGTHS = [6, 8, 20];

/** "aa:bb-cc" is not an address: one separator throughout. */
function bytePairs(text: string): string | undefined {
  const separator = text[2]!;
  const parts = text.split(separator);
  return parts.every((part) => part.length === 2) ? parts.join("") : undefined;
}
