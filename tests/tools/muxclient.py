#!/usr/bin/env python3
"""Host side of boxvm's mux protocol, for tests and debugging.

Implements src/proto/frame.h (12-byte frames), src/proto/mux.h (channels with
credit flow control; the host opens odd ids), src/proto/msg.h (session
messages) and src/proto/spec.h (process spec encoding).

    muxclient.py SOCK ping
    muxclient.py SOCK exec [--pty] [--user U] [--stdin DATA] -- ARGS...
    muxclient.py SOCK main [--stdin DATA] [--no-ack]
"""
import argparse
import socket
import struct
import sys
import time

# frame types
OPEN, OPEN_OK, OPEN_ERR, DATA, CREDIT, EOF, CLOSE = 1, 2, 3, 4, 5, 6, 7
MAX_PAYLOAD = 32768
WINDOW = 256 * 1024
# message kinds
(PING, PONG, REQ, STDIN, STDIN_EOF, STDOUT, STDERR, EXIT, SIGNAL, RESIZE, ERROR,
 EXIT_ACK, STARTED) = range(1, 14)
TIME = 16  # host->guest on main: i64 LE ns since the epoch; the agent spawns main on the first
KIND_NAMES = {v: k for k, v in dict(PING=PING, PONG=PONG, REQ=REQ, STDIN=STDIN, STDIN_EOF=STDIN_EOF,
                                    STDOUT=STDOUT, STDERR=STDERR, EXIT=EXIT, SIGNAL=SIGNAL, RESIZE=RESIZE,
                                    ERROR=ERROR, EXIT_ACK=EXIT_ACK, STARTED=STARTED).items()}
PORT_EXEC, PORT_PTY, PORT_MAIN = 4089, 4090, 4091
# spec tags
T_ARG, T_ENV, T_CWD, T_USER, T_TTY, T_STDIN, T_HOSTNAME, T_ACCEPT_DELAY_MS, T_TIMEOUT_MS = range(1, 10)


def encode_spec(args, env=(), cwd=None, user=None, tty=False, stdin=False, hostname=None,
                accept_delay_ms=0, timeout_ms=0):
    out = bytearray()

    def rec(tag, data):
        out.extend(struct.pack('<HI', tag, len(data)))
        out.extend(data)
    for a in args:
        rec(T_ARG, a.encode())
    for e in env:
        rec(T_ENV, e.encode())
    if cwd is not None:
        rec(T_CWD, cwd.encode())
    if user is not None:
        rec(T_USER, user.encode())
    if tty:
        rec(T_TTY, b'\x01')
    if stdin:
        rec(T_STDIN, b'\x01')
    if hostname is not None:
        rec(T_HOSTNAME, hostname.encode())
    if accept_delay_ms:
        rec(T_ACCEPT_DELAY_MS, struct.pack('<I', accept_delay_ms))
    if timeout_ms:
        rec(T_TIMEOUT_MS, struct.pack('<I', timeout_ms))
    return bytes(out)


def msg(kind, payload=b''):
    return struct.pack('<BI', kind, len(payload)) + payload


class Channel:
    def __init__(self, mux, cid, port):
        self.mux, self.id, self.port = mux, cid, port
        self.state = 'opening'
        self.err = 0
        self.send_credit = WINDOW
        self.rbuf = bytearray()      # received, not yet parsed into messages
        self.msgs = []               # parsed (kind, payload)
        self.got_eof = self.got_close = False
        self.unacked = 0
        self.hold_credit = False     # tests: act as a reader that stopped reading

    def release_credit(self):
        self.hold_credit = False
        if self.unacked:
            self.mux.frame(self.id, CREDIT, struct.pack('<I', self.unacked))
            self.unacked = 0

    def send(self, data):
        """Send bytes, waiting for credit as needed."""
        data = memoryview(data)
        while data:
            while self.send_credit == 0:
                self.mux.pump()
            n = min(len(data), self.send_credit, MAX_PAYLOAD)
            self.mux.frame(self.id, DATA, data[:n])
            self.send_credit -= n
            data = data[n:]

    def send_msg(self, kind, payload=b''):
        self.send(msg(kind, payload))

    def close(self):
        if self.state == 'open':
            self.mux.frame(self.id, CLOSE)
            self.state = 'closing'

    def next_msg(self, timeout=30):
        end = time.monotonic() + timeout
        while not self.msgs:
            if self.got_close:
                return None
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError('no message on channel %d' % self.id)
            self.mux.pump(left)
        return self.msgs.pop(0)

    def _on_data(self, data):
        self.rbuf.extend(data)
        while len(self.rbuf) >= 5:
            kind, ln = struct.unpack_from('<BI', self.rbuf)
            if len(self.rbuf) < 5 + ln:
                break
            self.msgs.append((kind, bytes(self.rbuf[5:5 + ln])))
            del self.rbuf[:5 + ln]
        # the test client consumes at once: return credit per frame
        self.unacked += len(data)
        if self.unacked >= 4096 and not self.hold_credit:
            self.mux.frame(self.id, CREDIT, struct.pack('<I', self.unacked))
            self.unacked = 0


class Mux:
    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX)
        end = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.buf = bytearray()
        self.chans = {}
        self.next_id = 1

    def frame(self, cid, ftype, payload=b''):
        self.sock.sendall(struct.pack('<IBBHI', cid, ftype, 0, 0, len(payload)) + bytes(payload))

    def open(self, port, timeout=60):
        cid = self.next_id
        self.next_id += 2
        ch = Channel(self, cid, port)
        self.chans[cid] = ch
        self.frame(cid, OPEN, struct.pack('<I', port))
        end = time.monotonic() + timeout
        while ch.state == 'opening':
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError('OPEN %d not answered' % port)
            self.pump(left)
        if ch.state == 'refused':
            raise ConnectionRefusedError('port %d refused: errno %d' % (port, ch.err))
        return ch

    def pump(self, timeout=30):
        """Receive and dispatch at least one frame (or raise on timeout/EOF)."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError('port closed by the VM')
        self.buf.extend(data)
        while len(self.buf) >= 12:
            cid, ftype, flags, res, ln = struct.unpack_from('<IBBHI', self.buf)
            if len(self.buf) < 12 + ln:
                break
            payload = bytes(self.buf[12:12 + ln])
            del self.buf[:12 + ln]
            self._dispatch(cid, ftype, payload)

    def _dispatch(self, cid, ftype, payload):
        ch = self.chans.get(cid)
        if ch is None:
            raise RuntimeError('frame type %d for unknown channel %d' % (ftype, cid))
        if ftype == OPEN_OK:
            ch.state = 'open'
        elif ftype == OPEN_ERR:
            ch.state, ch.err = 'refused', struct.unpack('<I', payload)[0]
            self.frame(cid, CLOSE)
            del self.chans[cid]
        elif ftype == DATA:
            ch._on_data(payload)
        elif ftype == CREDIT:
            ch.send_credit += struct.unpack('<I', payload)[0]
        elif ftype == EOF:
            ch.got_eof = True
        elif ftype == CLOSE:
            if ch.state == 'open':
                self.frame(cid, CLOSE)
            ch.got_close = True
            ch.state = 'closed'
            del self.chans[cid]
        else:
            raise RuntimeError('unexpected frame type %d' % ftype)


def collect(ch, timeout=60, on_msg=None):
    """Read messages until EXIT; returns dict(stdout, stderr, code, errors, pid, kinds)."""
    r = dict(stdout=b'', stderr=b'', code=None, errors=[], pid=None, kinds=[])
    end = time.monotonic() + timeout
    while True:
        m = ch.next_msg(max(0.1, end - time.monotonic()))
        if m is None:
            break
        kind, p = m
        r['kinds'].append(KIND_NAMES.get(kind, kind))
        if on_msg:
            on_msg(kind, p)
        if kind == STDOUT:
            r['stdout'] += p
        elif kind == STDERR:
            r['stderr'] += p
        elif kind == ERROR:
            r['errors'].append(p.decode(errors='replace'))
        elif kind == STARTED:
            r['pid'] = struct.unpack('<i', p)[0]
        elif kind == EXIT:
            r['code'] = struct.unpack('<i', p)[0]
            break
    return r


def ping(mux, timeout=60):
    ch = mux.open(PORT_EXEC, timeout)
    ch.send_msg(PING)
    kind, _ = ch.next_msg(timeout)
    assert kind == PONG, kind
    while ch.next_msg(timeout) is not None:  # the guest closes after PONG
        pass
    return True


def run_exec(mux, args, pty=False, stdin=None, timeout=60, **spec):
    ch = mux.open(PORT_PTY if pty else PORT_EXEC)
    ch.send_msg(REQ, encode_spec(args, stdin=stdin is not None, tty=pty, **spec))
    if stdin is not None:
        if stdin:
            ch.send_msg(STDIN, stdin)
        ch.send_msg(STDIN_EOF)
    r = collect(ch, timeout)
    while not ch.got_close:
        if ch.next_msg(timeout) is None:
            break
    return r


def attach_main(mux, stdin=None, ack=True, timeout=60):
    ch = mux.open(PORT_MAIN)
    ch.send_msg(TIME, struct.pack('<q', time.time_ns()))  # as the shim does: main starts on it
    if stdin is not None:
        if stdin:
            ch.send_msg(STDIN, stdin)
        ch.send_msg(STDIN_EOF)
    r = collect(ch, timeout)
    if ack and r['code'] is not None:
        ch.send_msg(EXIT_ACK)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('sock')
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('ping')
    e = sub.add_parser('exec')
    e.add_argument('--pty', action='store_true')
    e.add_argument('--user')
    e.add_argument('--stdin')
    e.add_argument('args', nargs='+')
    m = sub.add_parser('main')
    m.add_argument('--stdin')
    m.add_argument('--no-ack', action='store_true')
    a = ap.parse_args()
    mux = Mux(a.sock)
    if a.cmd == 'ping':
        ping(mux)
        print('PONG')
        return 0
    if a.cmd == 'exec':
        spec = {'user': a.user} if a.user else {}
        r = run_exec(mux, a.args, pty=a.pty, stdin=a.stdin.encode() if a.stdin is not None else None, **spec)
    else:
        r = attach_main(mux, stdin=a.stdin.encode() if a.stdin is not None else None, ack=not a.no_ack)
    sys.stdout.buffer.write(r['stdout'])
    sys.stderr.buffer.write(r['stderr'])
    return r['code'] if r['code'] is not None else 255


if __name__ == '__main__':
    sys.exit(main())
