#!/usr/bin/env python3
"""End-to-end checks of the guest agent under QEMU (see agent_vm.py).
Usage: agent_smoke.py [TEST...]; prints one line per check, exits 1 on failure."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import muxclient as mc  # noqa: E402
from agent_vm import VM  # noqa: E402

FAILS = []


def check(name, cond, detail=''):
    print('%s %s %s' % ('ok  ' if cond else 'FAIL', name, detail if not cond else ''), flush=True)
    if not cond:
        FAILS.append(name)


def boot(args, **kw):
    return VM(mc.encode_spec(args, **kw))


def t_services():
    """exec/pty services before main is attached, then main's own result."""
    # main starts on the host's first TIME (attach_main): its exit ends the box
    with boot(['sh', '-c', 'read x; echo main-$x'], hostname='box1', stdin=True) as vm:
        try:
            t = time.monotonic()
            check('ping/pong', mc.ping(vm.mux), '')
            print('     (first PONG %.1f s after QEMU start)' % (time.monotonic() - vm.t0))
            r = mc.run_exec(vm.mux, ['false'])
            check('exec false -> 1', r['code'] == 1, r)
            r = mc.run_exec(vm.mux, ['sh', '-c', 'echo out; echo err >&2; exit 7'])
            check('exec streams + code', r == {**r, 'stdout': b'out\n', 'stderr': b'err\n', 'code': 7}
                  and r['pid'], r)
            r = mc.run_exec(vm.mux, ['nosuch'])
            check('exec nosuch -> 127', r['code'] == 127 and
                  r['stderr'] == b'boxvm: exec: "nosuch": executable file not found in $PATH\n', r)
            r = mc.run_exec(vm.mux, ['/etc/passwd'])
            check('exec /etc/passwd -> 126', r['code'] == 126 and
                  r['stderr'] == b'boxvm: exec: "/etc/passwd": permission denied\n', r)
            r = mc.run_exec(vm.mux, ['id'], user='nosuch')
            check('exec unknown user -> 125', r['code'] == 125 and
                  r['stderr'] == b'boxvm: unable to find user nosuch: no matching entries in passwd file\n', r)
            r = mc.run_exec(vm.mux, ['id'], user='nobody')
            check('exec as nobody', r['code'] == 0 and b'uid=65534(nobody) gid=65534(nogroup)' in r['stdout'], r)
            r = mc.run_exec(vm.mux, ['sh', '-c', 'echo $HOME $PATH; pwd'], cwd='/work/dir')
            check('exec env + created cwd', r['stdout'] ==
                  b'/root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/work/dir\n', r)
            data = os.urandom(300000)
            r = mc.run_exec(vm.mux, ['cat'], stdin=data, timeout=120)
            check('exec stdin round trip 300 KB', r['code'] == 0 and r['stdout'] == data,
                  (r['code'], len(r['stdout'])))
            # a reader that stops reading stalls only its own channel
            slow = vm.mux.open(mc.PORT_EXEC)
            slow.hold_credit = True
            slow.send_msg(mc.REQ, mc.encode_spec(['head', '-c', '3000000', '/dev/zero']))
            end = time.monotonic() + 3
            while time.monotonic() < end:
                try:
                    vm.mux.pump(0.2)
                except TimeoutError:
                    pass
            got = sum(len(p) for k, p in slow.msgs if k == mc.STDOUT)
            check('slow reader holds at the window', 0 < got <= mc.WINDOW, got)
            check('heartbeat during a stalled channel', mc.ping(vm.mux, 10))
            r = mc.run_exec(vm.mux, ['echo', 'side'])
            check('exec during a stalled channel', r['stdout'] == b'side\n', r)
            slow.release_credit()
            r = mc.collect(slow, 120)
            r['stdout'] = len(r['stdout'])  # collect() also returns the messages counted in `got`
            del r['kinds']
            check('stalled channel resumes', r['code'] == 0 and r['stdout'] == 3000000, r)
            r = mc.run_exec(vm.mux, ['hostname'])
            check('hostname', r['stdout'] == b'box1\n', r)
            r = mc.run_exec(vm.mux, ['sh', '-c', 'tty; echo $((1+2))'], pty=True)
            check('pty', r['code'] == 0 and r['stdout'].startswith(b'/dev/pts/') and b'3\r\n' in r['stdout'], r)
            r = mc.run_exec(vm.mux, ['sleep', '10'], timeout_ms=300)
            check('timeout -> 137', r['code'] == 137, r)
            # SIGNAL
            ch = vm.mux.open(mc.PORT_EXEC)
            ch.send_msg(mc.REQ, mc.encode_spec(['sleep', '10']))
            assert ch.next_msg()[0] == mc.STARTED
            ch.send_msg(mc.SIGNAL, struct.pack('<i', 15))
            r = mc.collect(ch)
            check('SIGNAL 15 -> 143', r['code'] == 143, r)
            # host closes while running: process group must die
            ch = vm.mux.open(mc.PORT_EXEC)
            ch.send_msg(mc.REQ, mc.encode_spec(['sh', '-c', 'sleep 100 & sleep 101']))
            assert ch.next_msg()[0] == mc.STARTED
            ch.close()
            time.sleep(0.5)
            r = mc.run_exec(vm.mux, ['sh', '-c', 'ps -o pid,stat,args | grep -v grep | grep -c "sleep 10" ; ps -o stat | grep -c Z'])
            check('close kills group, no zombies', r['stdout'] == b'0\n0\n', r)
            r = mc.attach_main(vm.mux, stdin=b'done\n')
            check('main after exec sessions', r['code'] == 0 and r['stdout'] == b'main-done\n', r)
            vm.wait_exit(30)
            check('power off after EXIT_ACK', vm.qemu.returncode == 0, vm.qemu.returncode)
            check('quiet console', 'boxvm-agent' not in vm.console_text(), vm.console_text()[-500:])
        except Exception as e:
            check('services', False, repr(e) + '\n' + vm.console_text()[-2000:])


def main_case(name, args, want_code, want_out=None, want_err=None, max_exit_s=None, **kw):
    with boot(args, **kw) as vm:
        try:
            ch = vm.mux.open(mc.PORT_MAIN)
            ch.send_msg(mc.TIME, struct.pack('<q', time.time_ns()))  # main is spawned on it
            t = time.monotonic()
            r = mc.collect(ch)
            el = time.monotonic() - t
            if r['code'] is not None:
                ch.send_msg(mc.EXIT_ACK)
            ok = r['code'] == want_code
            if want_out is not None:
                ok = ok and r['stdout'] == want_out
            if want_err is not None:
                ok = ok and r['stderr'] == want_err
            check(name, ok, r)
            waited = vm.wait_exit(30)
            check(name + ': powered off', vm.qemu.returncode == 0, vm.qemu.returncode)
            return r, el
        except Exception as e:
            check(name, False, repr(e) + '\n' + vm.console_text()[-2000:])
            return None, 0


def t_echo():
    main_case('main echo hello', ['echo', 'hello'], 0, b'hello\n', b'')


def t_outerr():
    main_case('main out/err/3', ['sh', '-c', 'echo out; echo err >&2; exit 3'], 3, b'out\n', b'err\n')


def t_kill9():
    main_case('main kill -9 -> 137', ['sh', '-c', 'kill -9 $$'], 137)


def t_bg():
    r, el = main_case('main with background -> 5', ['sh', '-c', 'sleep 2 & sleep 0.1 & exit 5'], 5)
    # the EXIT must not wait for the background `sleep 2` holding main's pipes
    check('main with background: prompt', el < 1.0, el)


def t_nosuch():
    main_case('main nosuch -> 127', ['nosuch'], 127, b'',
              b'boxvm: exec: "nosuch": executable file not found in $PATH\n')


def t_delay():
    main_case('accept delay', ['sh', '-c', 'seq 1 20000'], 0,
              b''.join(b'%d\n' % i for i in range(1, 20001)), accept_delay_ms=1500)


def t_stdin():
    with boot(['sh', '-c', 'read x; echo got $x'], stdin=True) as vm:
        r = mc.attach_main(vm.mux, stdin=b'abc\n')
        check('main stdin', r['code'] == 0 and r['stdout'] == b'got abc\n', r)
        vm.wait_exit(30)


def t_tty():
    with boot(['sh', '-c', 'tty; stty size'], tty=True) as vm:
        ch = vm.mux.open(mc.PORT_MAIN)
        ch.send_msg(mc.RESIZE, struct.pack('<HH', 40, 132))
        r = mc.collect(ch)
        ch.send_msg(mc.EXIT_ACK)
        check('main on a tty', r['code'] == 0 and r['stdout'].startswith(b'/dev/pts/'), r)
        vm.wait_exit(30)


TESTS = dict(tty=t_tty, services=t_services, echo=t_echo, outerr=t_outerr, kill9=t_kill9, bg=t_bg, nosuch=t_nosuch,
             delay=t_delay, stdin=t_stdin)

if __name__ == '__main__':
    for n in sys.argv[1:] or list(TESTS):
        TESTS[n]()
    print('FAILED: ' + ', '.join(FAILS) if FAILS else 'all ok')
    sys.exit(1 if FAILS else 0)
