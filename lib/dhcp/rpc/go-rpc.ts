/**
 * Go's net/rpc over HTTP on a unix socket, as the reference dhcp plugin and daemon speak it
 * (rpc.DialHTTP / rpc.HandleHTTP): the client sends "CONNECT /_goRPC_ HTTP/1.0", the server
 * answers "HTTP/1.0 200 Connected to Go RPC", and from then on both sides exchange gob streams:
 * a call is a Request header (method, sequence number) and the argument; an answer is a Response
 * header (method, sequence number, error text) and the reply.
 *
 * Every read is bounded: the HTTP head to MAX_HEAD_BYTES, each gob message to MAX_MESSAGE_BYTES.
 */
import { connect, type Socket } from "node:net";
import { GobDecoder, GobEncoder, GobError, nextMessage, type GobType, type GobValue } from "./gob.ts";
import { emptyType, requestType, responseType } from "./types.ts";

export const RPC_PATH = "/_goRPC_";
const CONNECTED = "200 Connected to Go RPC";
const MAX_HEAD_BYTES = 4096;
export const MAX_MESSAGE_BYTES = 4 << 20;

/** Reads gob values off a byte stream as they complete. */
class GobStreamReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private readonly decoder = new GobDecoder();

  /** Adds received bytes; returns the values they completed. Throws GobError on bad input. */
  push(chunk: Uint8Array): GobValue[] {
    // A plain Uint8Array view (not a Buffer), so decoded byte slices are plain Uint8Arrays too.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.buffer = this.buffer.length === 0 ? bytes : concat(this.buffer, bytes);
    const values: GobValue[] = [];
    for (;;) {
      const next = nextMessage(this.buffer, MAX_MESSAGE_BYTES);
      if (!next) break;
      this.buffer = next.rest;
      const decoded = this.decoder.decodeMessage(next.message);
      if (decoded) values.push(decoded.value);
    }
    return values;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** The end of an HTTP head ("\n\n" or "\r\n\r\n") in `data`, or -1. */
function headEnd(data: Uint8Array): { head: string; bodyStart: number } | undefined {
  const text = Buffer.from(data).toString("latin1");
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return undefined;
  return { head: text.slice(0, match.index), bodyStart: match.index + match[0].length };
}

// ---------------------------------------------------------------------------------------------
// Client

/** The daemon could not be reached or did not speak net/rpc. */
export class RpcUnavailable extends Error {
  constructor(
    message: string,
    /** The connection was refused or the socket does not exist: no daemon is running. */
    readonly notRunning: boolean,
  ) {
    super(message);
    this.name = "RpcUnavailable";
  }
}

/** The server answered the call with an error (net/rpc's ServerError). */
export class RpcServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcServerError";
  }
}

export class RpcTimeout extends Error {
  constructor(
    readonly method: string,
    readonly ms: number,
  ) {
    super(`no answer to ${method} within ${ms / 1000} s`);
    this.name = "RpcTimeout";
  }
}

/**
 * Calls `method` on the net/rpc server at the unix socket `path` with one argument, and returns
 * the reply value. Rejects with RpcUnavailable, RpcServerError, RpcTimeout or GobError.
 */
export function callGoRpc(path: string, method: string, argType: GobType, arg: GobValue, timeoutMs: number): Promise<GobValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let settled = false;
    const finish = (error: Error | undefined, value?: GobValue) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new RpcTimeout(method, timeoutMs)), timeoutMs);

    let head: Uint8Array = new Uint8Array(0);
    let reader: GobStreamReader | undefined;
    let header: GobValue | undefined;
    socket.on("connect", () => {
      socket.write(`CONNECT ${RPC_PATH} HTTP/1.0\n\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        if (!reader) {
          head = concat(head, chunk);
          const end = headEnd(head);
          if (!end) {
            if (head.length > MAX_HEAD_BYTES) throw new RpcUnavailable(`${path} answered with an HTTP head longer than ${MAX_HEAD_BYTES} bytes`, false);
            return;
          }
          const status = end.head.split(/\r?\n/)[0] ?? "";
          if (status.slice(status.indexOf(" ") + 1) !== CONNECTED) {
            throw new RpcUnavailable(`${path} is not a Go net/rpc server (it answered "${status.slice(0, 80)}")`, false);
          }
          reader = new GobStreamReader();
          const encoder = new GobEncoder();
          socket.write(concat(encoder.encode(requestType, { ServiceMethod: method, Seq: 0 }), encoder.encode(argType, arg)));
          chunk = Buffer.from(head.subarray(end.bodyStart));
        }
        for (const value of reader.push(chunk)) {
          if (header === undefined) {
            header = value;
            continue;
          }
          const error = typeof header === "object" && header !== null && "Error" in header ? header.Error : undefined;
          if (typeof error === "string" && error !== "") finish(new RpcServerError(error));
          else finish(undefined, value);
          return;
        }
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      const notRunning = error.code === "ENOENT" || error.code === "ECONNREFUSED";
      finish(new RpcUnavailable(`cannot connect to ${path}: ${error.message}`, notRunning));
    });
    socket.on("close", () => finish(new RpcUnavailable(`${path} closed the connection before answering ${method}`, false)));
  });
}

// ---------------------------------------------------------------------------------------------
// Server

/** A method's reply: its gob type and value. */
export interface RpcReply {
  type: GobType;
  value: GobValue;
}

export type RpcMethod = (arg: GobValue) => Promise<RpcReply>;

export interface RpcServerOptions {
  methods: Record<string, RpcMethod>;
  log(message: string): void;
  /** A connection with no call in progress and no traffic for this long is closed. */
  idleMs: number;
}

/**
 * Serves net/rpc on one accepted connection: the CONNECT handshake, then calls until the client
 * closes. Calls run concurrently and are answered as they finish, each answer tagged with its
 * call's sequence number, as Go's server does.
 */
export function serveGoRpcConnection(socket: Socket, options: RpcServerOptions): void {
  let head: Uint8Array = new Uint8Array(0);
  let reader: GobStreamReader | undefined;
  const encoder = new GobEncoder();
  let pendingHeader: { method: string; seq: number | bigint } | undefined;
  let inFlight = 0;

  socket.setTimeout(options.idleMs, () => {
    if (inFlight === 0) socket.destroy();
  });
  socket.on("error", () => undefined); // a client that went away; nothing to answer
  socket.on("data", (chunk: Buffer) => {
    try {
      if (!reader) {
        head = concat(head, chunk);
        const end = headEnd(head);
        if (!end) {
          if (head.length > MAX_HEAD_BYTES) refuse(socket, "431 Request Header Fields Too Large", "request head too large");
          return;
        }
        const [method, path] = (end.head.split(/\r?\n/)[0] ?? "").split(" ");
        if (method !== "CONNECT") return refuse(socket, "405 Method Not Allowed", "405 must CONNECT");
        if (path !== RPC_PATH) return refuse(socket, "404 Not Found", "404 page not found");
        socket.write(`HTTP/1.0 ${CONNECTED}\n\n`);
        reader = new GobStreamReader();
        chunk = Buffer.from(head.subarray(end.bodyStart));
      }
      for (const value of reader.push(chunk)) {
        if (!pendingHeader) {
          pendingHeader = readRequestHeader(value);
          continue;
        }
        const { method, seq } = pendingHeader;
        pendingHeader = undefined;
        inFlight++;
        void answer(method, seq, value).finally(() => inFlight--);
      }
    } catch (error) {
      options.log(`rpc: dropping a connection: ${(error as Error).message}`);
      socket.destroy();
    }
  });

  async function answer(method: string, seq: number | bigint, arg: GobValue): Promise<void> {
    let reply: RpcReply = { type: emptyType, value: {} };
    let error = "";
    const handler = Object.hasOwn(options.methods, method) ? options.methods[method] : undefined;
    if (!handler) {
      error = `rpc: can't find method ${method}`;
    } else {
      try {
        reply = await handler(arg);
      } catch (failure) {
        error = (failure as Error).message || String(failure);
        reply = { type: emptyType, value: {} };
      }
    }
    if (socket.destroyed) return;
    try {
      socket.write(concat(encoder.encode(responseType, { ServiceMethod: method, Seq: seq, Error: error }), encoder.encode(reply.type, reply.value)));
    } catch (failure) {
      options.log(`rpc: cannot encode the reply to ${method}: ${(failure as Error).message}`);
      socket.destroy();
    }
  }
}

function readRequestHeader(value: GobValue): { method: string; seq: number | bigint } {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
    throw new GobError("the request header is not a struct");
  }
  const method = value.ServiceMethod ?? "";
  const seq = value.Seq ?? 0;
  if (typeof method !== "string" || (typeof seq !== "number" && typeof seq !== "bigint")) throw new GobError("the request header has the wrong field types");
  return { method, seq };
}

function refuse(socket: Socket, status: string, body: string): void {
  socket.end(`HTTP/1.0 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\n`);
}
