import { dlopen, FFIType, ptr as addressOf, read, type Pointer } from "bun:ffi";
import { BPF_INSTRUCTION_BYTES, SO_ATTACH_FILTER, SOL_SOCKET, SysError, type Sys } from "./types.ts";

const { i32, u64, ptr } = FFIType;

const libc = dlopen("libc.so.6", {
  setns: { args: [i32, i32], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, ptr, u64], returns: i32 },
  setsockopt: { args: [i32, i32, i32, ptr, u64], returns: i32 },
  send: { args: [i32, ptr, u64, i32], returns: i32 },
  recv: { args: [i32, ptr, u64, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  flock: { args: [i32, i32], returns: i32 },
  ioctl: { args: [i32, u64, ptr], returns: i32 },
  __errno_location: { args: [], returns: ptr },
}).symbols;
// The same ioctl(2) with its third argument as a plain integer: a second handle, because one
// library handle binds each symbol with one signature.
const libcByValue = dlopen("libc.so.6", {
  ioctl: { args: [i32, u64, u64], returns: i32 },
}).symbols;

// errno is thread-local; reading it right after the failing call, on the same thread, is safe.
function check(call: string, result: number): number {
  if (result < 0) {
    const errno = read.i32(libc.__errno_location() as Pointer, 0);
    throw new SysError(call, errno);
  }
  return result;
}

export const bunSys: Sys = {
  setns: (fd, nstype) => void check("setns", libc.setns(fd, nstype)),
  socket: (domain, type, protocol) => check("socket", libc.socket(domain, type, protocol)),
  bind: (fd, sockaddr) => void check("bind", libc.bind(fd, sockaddr, sockaddr.byteLength)),
  setsockopt: (fd, level, option, value) =>
    void check("setsockopt", libc.setsockopt(fd, level, option, value, value.byteLength)),
  send: (fd, data) => check("send", libc.send(fd, data, data.byteLength, 0)),
  recv: (fd, buffer, flags) => check("recv", libc.recv(fd, buffer, buffer.byteLength, flags)),
  close: (fd) => void check("close", libc.close(fd)),
  flock: (fd, operation) => void check("flock", libc.flock(fd, operation)),
  ioctl: (fd, request, arg) => void check("ioctl", libc.ioctl(fd, request, arg)),
  ioctlValue: (fd, request, value) => void check("ioctl", libcByValue.ioctl(fd, request, value)),
  attachFilter: (fd, program) => {
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 16 bytes on 64-bit
    // (little-endian: every platform Bun runs on).
    const fprog = new Uint8Array(16);
    const view = new DataView(fprog.buffer);
    view.setUint16(0, program.byteLength / BPF_INSTRUCTION_BYTES, true);
    view.setBigUint64(8, BigInt(addressOf(program)), true);
    check("setsockopt(SO_ATTACH_FILTER)", libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, fprog.byteLength));
  },
};
