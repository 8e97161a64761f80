#!/usr/bin/env python3
"""Dev tool: spawn boxvm-shim the way the CLI does and attach to it.

    shimrun.py SHIM BOXDIR/vm.json [--stdin]

Spawns `SHIM --sync-fd N vm.json`, waits for the child (the shim daemonizes),
reads "ok"/"error: ..." from the pipe, connects RUN/attach.sock, sends the
flags byte with our stdin/stdout/stderr (SCM_RIGHTS), forwards SIGINT/SIGTERM
as SIGNAL messages, prints ERROR messages to stderr and exits with the code
from EXIT. Prints timing to stderr with -v."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

M_SIGNAL, M_EXIT, M_ERROR = 9, 8, 11


def main():
    shim, spec = sys.argv[1], sys.argv[2]
    fwd_stdin = '--stdin' in sys.argv
    verbose = '-v' in sys.argv
    t0 = time.time()
    run_dir = json.load(open(spec))['run_dir']
    r, w = os.pipe()
    p = subprocess.Popen([shim, '--sync-fd', str(w), spec], pass_fds=[w])
    os.close(w)
    rc = p.wait()
    line = b''
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        line += b
    os.close(r)
    if rc != 0 or not line.startswith(b'ok'):
        sys.stderr.write('shimrun: shim failed (rc %d): %s\n' % (rc, line.decode().strip() or '(no report)'))
        return 125
    if verbose:
        sys.stderr.write('shimrun: ok after %.3f s\n' % (time.time() - t0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(run_dir, 'attach.sock'))
    socket.send_fds(s, [bytes([1 if fwd_stdin else 0])], [0, 1, 2])

    def fwd(sig, _frame):
        s.sendall(struct.pack('<BIi', M_SIGNAL, 4, sig))
    signal.signal(signal.SIGINT, fwd)
    signal.signal(signal.SIGTERM, fwd)
    buf = b''
    code = None
    while code is None:
        d = s.recv(65536)
        if not d:
            sys.stderr.write('shimrun: shim closed the connection without EXIT\n')
            return 125
        buf += d
        while len(buf) >= 5:
            kind, ln = struct.unpack('<BI', buf[:5])
            if len(buf) < 5 + ln:
                break
            payload, buf = buf[5:5 + ln], buf[5 + ln:]
            if kind == M_ERROR:
                sys.stderr.write('boxvm: %s\n' % payload.decode(errors='replace'))
            elif kind == M_EXIT:
                code = struct.unpack('<i', payload)[0]
    if verbose:
        sys.stderr.write('shimrun: exit %d after %.3f s\n' % (code, time.time() - t0))
    return code


if __name__ == '__main__':
    sys.exit(main())
