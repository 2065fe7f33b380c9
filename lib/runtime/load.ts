import {
  configFiles,
  declaredNetworkName,
  networkConfigListFromFile,
  networkConfigListFromPluginFile,
  readConfigFile,
  type NetworkConfigList,
} from "./conflist.ts";
import { ConfigError, NetworkNotFoundError } from "./errors.ts";

/** What one configuration file turned out to be. */
export interface ConfigFileEntry {
  file: string;
  /** The network name the file declares, when it can be read that far. */
  declaredName: string | undefined;
  list?: NetworkConfigList;
  error?: ConfigError;
}

export interface NetworkDirectory {
  dir: string;
  /** Every configuration file, in libcni's lookup order. */
  entries: ConfigFileEntry[];
  /** Usable networks, one per name, in libcni's lookup order. */
  networks: NetworkConfigList[];
  /** Files that cannot be used (each names the file and the field), including duplicate names. */
  problems: ConfigError[];
}

/**
 * Every configuration file of a directory in libcni's lookup order: .conflist files sorted by
 * name first, then .conf and .json files sorted by name together.
 */
export function readConfigDirectory(dir: string): ConfigFileEntry[] {
  const lists = configFiles(dir, [".conflist"]).map((file) => readEntry(file, networkConfigListFromFile));
  const singles = configFiles(dir, [".conf", ".json"]).map((file) => readEntry(file, networkConfigListFromPluginFile));
  return [...lists, ...singles];
}

function readEntry(file: string, parse: (file: string) => NetworkConfigList): ConfigFileEntry {
  try {
    const list = parse(file);
    return { file, declaredName: list.name, list };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let declaredName: string | undefined;
    try {
      declaredName = declaredNetworkName(readConfigFile(file));
    } catch {
      declaredName = undefined;
    }
    return { file, declaredName, error };
  }
}

/**
 * Loads every network of a directory. A bad file never stops the others from loading: it is
 * reported in `problems` with its name and the field at fault. When two files name the same
 * network, the first in lookup order wins (as in libcni), even when it is the broken one, and
 * the other is reported as a duplicate.
 */
export function loadNetworkDirectory(dir: string): NetworkDirectory {
  const networks: NetworkConfigList[] = [];
  const problems: ConfigError[] = [];
  const definedIn = new Map<string, string>();
  const entries = readConfigDirectory(dir);
  for (const entry of entries) {
    const first = entry.declaredName === undefined ? undefined : definedIn.get(entry.declaredName);
    if (entry.error) {
      problems.push(entry.error);
    } else if (first !== undefined) {
      problems.push(new ConfigError(entry.file, "name", `network "${entry.declaredName}" is already defined in ${first}; this file is ignored`));
    } else {
      networks.push(entry.list!);
    }
    // A broken file claims its name too: the lookup stops at it, as libcni's does.
    if (entry.declaredName !== undefined && first === undefined) definedIn.set(entry.declaredName, entry.file);
  }
  return { dir, entries, networks, problems };
}

/**
 * Finds a network by name, as libcni's LoadConfList / LoadNetworkConf: the first file in lookup
 * order that declares the name decides. If that file is broken, its error is thrown (libcni
 * fails too); unrelated broken files do not stop the lookup, unlike libcni, which gives up at the
 * first unreadable file before the match.
 */
export function loadNetworkList(dir: string, name: string): NetworkConfigList {
  return findNetwork(loadNetworkDirectory(dir), name);
}

/** The lookup of loadNetworkList in a directory already loaded. */
export function findNetwork({ dir, entries }: NetworkDirectory, name: string): NetworkConfigList {
  const match = entries.find((entry) => entry.declaredName === name);
  if (match?.list) return match.list;
  if (match?.error) throw match.error;
  const unreadable = entries.filter((entry) => entry.declaredName === undefined).map((entry) => entry.error!);
  throw new NetworkNotFoundError(dir, name, unreadable);
}
