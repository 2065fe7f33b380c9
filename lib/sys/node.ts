import koffi from "koffi";
import { BPF_INSTRUCTION_BYTES, SO_ATTACH_FILTER, SOL_SOCKET, SysError, type Sys } from "./types.ts";

const libc = koffi.load("libc.so.6");
const setns = libc.func("int setns(int fd, int nstype)");
const socket = libc.func("int socket(int domain, int type, int protocol)");
const bind = libc.func("int bind(int fd, const void *addr, uint32_t len)");
const setsockopt = libc.func("int setsockopt(int fd, int level, int name, const void *value, uint32_t len)");
const send = libc.func("long send(int fd, const void *buf, size_t len, int flags)");
const recv = libc.func("long recv(int fd, _Out_ void *buf, size_t len, int flags)");
const close = libc.func("int close(int fd)");
const flock = libc.func("int flock(int fd, int operation)");
const ioctl = libc.func("int ioctl(int fd, unsigned long request, _Inout_ void *arg)");
const ioctlByValue = libc.func("int ioctl(int fd, unsigned long request, unsigned long value)");
koffi.struct("sock_fprog", { len: "uint16_t", filter: "void *" });
const setsockoptProgram = libc.func("int setsockopt(int fd, int level, int name, const sock_fprog *value, uint32_t len)");
const SOCK_FPROG_BYTES = 16;

function check(call: string, result: number | bigint): number {
  const value = Number(result);
  if (value < 0) throw new SysError(call, koffi.errno());
  return value;
}

export const nodeSys: Sys = {
  setns: (fd, nstype) => void check("setns", setns(fd, nstype)),
  socket: (domain, type, protocol) => check("socket", socket(domain, type, protocol)),
  bind: (fd, sockaddr) => void check("bind", bind(fd, sockaddr, sockaddr.byteLength)),
  setsockopt: (fd, level, option, value) =>
    void check("setsockopt", setsockopt(fd, level, option, value, value.byteLength)),
  send: (fd, data) => check("send", send(fd, data, data.byteLength, 0)),
  recv: (fd, buffer, flags) => check("recv", recv(fd, buffer, buffer.byteLength, flags)),
  close: (fd) => void check("close", close(fd)),
  flock: (fd, operation) => void check("flock", flock(fd, operation)),
  ioctl: (fd, request, arg) => void check("ioctl", ioctl(fd, request, arg)),
  ioctlValue: (fd, request, value) => void check("ioctl", ioctlByValue(fd, request, value)),
  attachFilter: (fd, program) =>
    void check(
      "setsockopt(SO_ATTACH_FILTER)",
      setsockoptProgram(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.byteLength / BPF_INSTRUCTION_BYTES, filter: program }, SOCK_FPROG_BYTES),
    ),
};
