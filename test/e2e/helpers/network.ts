import { spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port nothing listens on now, chosen by the kernel. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * The body of an HTTP page fetched with curl (the static busybox's wget crashes on the host),
 * retried for a few seconds while a server that was just started comes up.
 */
export async function fetchPage(url: string): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    const curl = spawnSync("curl", ["--silent", "--show-error", "--max-time", "5", url], { encoding: "utf8" });
    if (curl.status === 0) return curl.stdout;
    last = curl.stderr.trim();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`curl ${url} kept failing: ${last}`);
}
