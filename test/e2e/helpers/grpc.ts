import { connect as connectHttp2, constants, type ClientHttp2Session } from "node:http2";
import { connect as connectSocket } from "node:net";

/** A gRPC call that ended with a status other than OK: the server's own code and message. */
export class GrpcError extends Error {
  constructor(
    readonly method: string,
    readonly status: number,
    readonly grpcMessage: string,
  ) {
    super(`${method}: gRPC status ${status}: ${grpcMessage}`);
  }
}

/**
 * Unary gRPC calls over a unix socket with Node's own HTTP/2 client: a request is one
 * length-prefixed message, the answer one length-prefixed message and a grpc-status trailer.
 */
export class GrpcUnixClient {
  private constructor(private readonly session: ClientHttp2Session) {}

  static connect(socketPath: string): GrpcUnixClient {
    const session = connectHttp2("http://localhost", { createConnection: () => connectSocket(socketPath) });
    // A connection failure surfaces in the call that is waiting; an unhandled 'error' would crash.
    session.on("error", () => {});
    return new GrpcUnixClient(session);
  }

  /** Calls `/<service>/<method>` with an encoded request; resolves with the encoded answer. */
  call(method: string, request: Buffer, timeoutMs = 60_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: method,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
        te: "trailers",
        "grpc-timeout": `${timeoutMs}m`,
      });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let grpcMessage = "";
      const readStatus = (headers: Record<string, unknown>): void => {
        if (headers["grpc-status"] === undefined) return;
        status = Number(headers["grpc-status"]);
        grpcMessage = decodeURIComponent(String(headers["grpc-message"] ?? ""));
      };
      stream.setTimeout(timeoutMs + 5_000, () => stream.close(constants.NGHTTP2_CANCEL));
      stream.on("response", readStatus); // a "trailers-only" answer carries the status in its headers
      stream.on("trailers", readStatus);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error) => reject(new Error(`${method}: ${error.message}`)));
      stream.on("close", () => {
        if (status === undefined) return reject(new Error(`${method}: the stream closed without a gRPC status`));
        if (status !== 0) return reject(new GrpcError(method, status, grpcMessage));
        const body = Buffer.concat(chunks);
        if (body.length < 5) return resolve(Buffer.alloc(0));
        if (body[0] !== 0) return reject(new Error(`${method}: the answer is compressed, which was not asked for`));
        resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
      });
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(request.length, 1);
      stream.end(Buffer.concat([prefix, request]));
    });
  }

  close(): void {
    this.session.close();
  }
}
