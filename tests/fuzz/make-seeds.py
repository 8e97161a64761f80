#!/usr/bin/env python3
"""Writes the binary seed inputs of corpus/{frame,mux,msg,spec} (the text
ones are written by hand). Run from tests/fuzz after a wire format changes."""
import os
import struct

OPEN, OPEN_OK, OPEN_ERR, DATA, CREDIT, EOF, CLOSE = range(1, 8)
PING, PONG, REQ, STDIN, STDIN_EOF, STDOUT, STDERR, EXIT = range(1, 9)
ERROR, EXIT_ACK, STARTED, STATS, STATS_REPLY = 11, 12, 13, 14, 15


def frame(chan, typ, payload=b""):
    return struct.pack("<IBBHI", chan, typ, 0, 0, len(payload)) + payload


def msg(kind, payload=b""):
    return struct.pack("<BI", kind, len(payload)) + payload


def rec(tag, data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack("<HI", tag, len(data)) + data


def mount(kind, ro, src, dst, opts):
    return struct.pack("<BBH", kind, ro, len(src)) + src + struct.pack("<H", len(dst)) + dst + opts


def spec_exec():
    return (rec(1, "sh") + rec(1, "-c") + rec(1, "echo hi; exit 3") + rec(2, "PATH=/usr/bin:/bin") +
            rec(2, "TERM=xterm") + rec(3, "/tmp") + rec(4, "1000:1000") + rec(5, b"\x01") + rec(6, b"\x01") +
            rec(9, struct.pack("<I", 5000)) + rec(10, struct.pack("<IQQ", 7, 1024, 4096)) +
            rec(11, struct.pack("<I", 27)))


def spec_box():
    return (rec(1, "/bin/sh") + rec(2, "HOSTNAME=web") + rec(7, "web") + rec(20, "10.0.2.15/24") +
            rec(21, "10.0.2.2") + rec(22, struct.pack("<I", 65520)) +
            rec(23, "127.0.0.1\tlocalhost\n10.0.2.15\tweb\n") + rec(24, "nameserver 10.0.2.3\n") +
            rec(25, b"\x01") + rec(26, mount(1, 0, b"m0", b"/data", b"")) +
            rec(26, mount(2, 1, b"m1", b"/etc/app.conf", b"app.conf")) +
            rec(26, mount(3, 0, b"", b"/run", b"size=64m,mode=1777")))


def stats():
    return struct.pack("<8Q", 512 << 20, 400 << 20, 3, 1000, 2000, 0, 0, 123456789)


def write(d, name, data):
    os.makedirs(os.path.join("corpus", d), exist_ok=True)
    with open(os.path.join("corpus", d, name), "wb") as f:
        f.write(data)


# frame: what the guest writes to its port
write("frame", "exec-session", frame(1, OPEN_OK) + frame(1, DATA, msg(STARTED, struct.pack("<i", 42))) +
      frame(1, DATA, msg(STDOUT, b"hi\n")) + frame(1, DATA, msg(EXIT, struct.pack("<i", 3))) +
      frame(1, CREDIT, struct.pack("<I", 4096)) + frame(1, EOF) + frame(1, CLOSE))
write("frame", "refused", frame(3, OPEN_ERR, struct.pack("<I", 111)) + frame(3, CLOSE))
write("frame", "guest-open", frame(2, OPEN, struct.pack("<I", 4089)) + frame(2, CLOSE))
write("frame", "truncated", frame(1, DATA, b"x" * 40)[:30])
write("frame", "oversized", struct.pack("<IBBHI", 1, DATA, 0, 0, 32769))

# mux: 2 steering bytes (PRNG seed; host opens data[1] % 4 channels), then the guest's stream
ans = (frame(1, OPEN_OK) + frame(1, DATA, msg(PONG)) + frame(1, CLOSE) +
       frame(3, OPEN_ERR, struct.pack("<I", 111)) +
       frame(5, OPEN_OK) + frame(5, CREDIT, struct.pack("<I", 7)) + frame(5, DATA, b"Echo") + frame(5, EOF) +
       frame(5, CLOSE))
write("mux", "host-opens", b"\x07\x03" + ans)
write("mux", "guest-opens", b"\x01\x00" + frame(2, OPEN, struct.pack("<I", 4092)) + frame(2, DATA, b"hello") +
      frame(2, DATA, b"Close") + frame(2, CLOSE) + frame(4, OPEN, struct.pack("<I", 7)) + frame(4, DATA, b"dropped") +
      frame(4, CLOSE))
# the flood of issue 10: OPEN of port 4089 then CLOSE, over and over
write("mux", "open-close-flood", b"\x00\x00" + (frame(2, OPEN, struct.pack("<I", 4089)) + frame(2, CLOSE)) * 40)
write("mux", "window-overflow", b"\x05\x01" + frame(1, OPEN_OK) + frame(1, CREDIT, struct.pack("<I", 0xffffffff)))

# msg: what the guest sends inside an exec or main channel
write("msg", "exec-output", b"\x05" + msg(STARTED, struct.pack("<i", 42)) + msg(STDOUT, b"hello\n") +
      msg(STDERR, b"warning\n") + msg(EXIT, struct.pack("<i", 0)))
write("msg", "error-exit", b"\x10" + msg(ERROR, b"exec: \"nope\": executable file not found in $PATH") +
      msg(EXIT, struct.pack("<i", 127)))
write("msg", "stats", b"\x40" + msg(STATS_REPLY, stats()))
write("msg", "req", b"\x03" + msg(REQ, spec_exec()))
write("msg", "bad-kind", b"\x01" + bytes([99, 0, 0, 0, 0]))
write("msg", "too-long", b"\x01" + bytes([STDOUT]) + struct.pack("<I", (1 << 20) + 1))

# spec
write("spec", "exec", spec_exec())
write("spec", "box", spec_box())
write("spec", "args-only", rec(1, "true"))
write("spec", "dup-cwd", rec(1, "true") + rec(3, "/") + rec(3, "/tmp"))
# BX_T_SECCOMP: ld arch; jeq x86_64 ? allow : kill
write("spec", "seccomp", rec(1, "true") + rec(16, struct.pack("<HBBI", 0x20, 0, 0, 4) +
      struct.pack("<HBBI", 0x15, 0, 1, 0xc000003e) + struct.pack("<HBBI", 0x06, 0, 0, 0x7fff0000) +
      struct.pack("<HBBI", 0x06, 0, 0, 0)))
