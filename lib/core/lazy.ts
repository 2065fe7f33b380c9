/**
 * A value built on first use and kept. For zod schemas above all: building one costs start-up
 * time in every process that loads its module (zod constructs every wrapper and check), while
 * a plugin run parses with only a few of them, and often with none of some module's.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
