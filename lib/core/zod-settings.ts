import { z } from "zod";

/**
 * zod settings for a plugin process, applied before any schema is built: zod compiles a parser
 * for each object schema on its first use (new Function), and a plugin parses its configuration
 * once, so compiling costs more than it saves (~2 ms per ADD). Object schemas read the setting
 * when they are built.
 */
export function configureZodForOneShotParsing(): void {
  z.config({ jitless: true });
}
