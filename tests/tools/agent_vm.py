#!/usr/bin/env python3
"""Boot the guest agent in a QEMU microVM by hand (no shim needed).

Builds a busybox rootfs, an initramfs (agent as /init, virtio modules as
/lib/boxvm-modules/NN-name.ko in modules.dep order, /boxvm/spec), starts
virtiofsd and QEMU (TCG-safe command line), and hands back a muxclient.Mux
connected to the control port. Used by agent_smoke.py.

Environment: BOXVM_AGENT (default build/boxvm-agent), BOXVM_KERNEL_DIR
(default /var/lib/boxvm/kernel/<newest>), BOXVM_DEBUG=1 for agent logs."""
import glob
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import muxclient  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES = ['virtio_mmio', 'virtio_console', 'virtiofs']


def cpio_newc(entries):
    """entries: list of (name, mode, data or None for a directory)."""
    out = bytearray()
    ino = 1000

    def pad4():
        while len(out) % 4:
            out.append(0)
    for name, mode, data in entries + [('TRAILER!!!', 0, b'')]:
        data = data or b''
        nb = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08X' % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        pad4()
        out += data
        pad4()
        ino += 1
    while len(out) % 512:
        out.append(0)
    return bytes(out)


def kernel_dir():
    d = os.environ.get('BOXVM_KERNEL_DIR')
    if d:
        return d
    vers = sorted(glob.glob('/var/lib/boxvm/kernel/*/.complete'))
    if vers:
        return os.path.dirname(vers[-1])
    return '/tmp/vmsmoke/kernel'


def module_files(kdir):
    ver = os.listdir(os.path.join(kdir, 'lib/modules'))[0]
    seen, files = set(), []
    for m in MODULES:
        out = subprocess.run(['modprobe', '-d', kdir, '-S', ver, '--show-depends', m], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == 'insmod' and parts[1] not in seen:
                seen.add(parts[1])
                files.append(parts[1])
    return ver, files


def make_rootfs(d):
    os.makedirs(os.path.join(d, 'bin'))
    os.makedirs(os.path.join(d, 'etc'))
    shutil.copy('/bin/busybox', os.path.join(d, 'bin/busybox'))
    applets = subprocess.run(['/bin/busybox', '--list'], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != 'busybox':
            os.symlink('busybox', os.path.join(d, 'bin', a))
    with open(os.path.join(d, 'etc/passwd'), 'w') as f:
        f.write('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
    with open(os.path.join(d, 'etc/group'), 'w') as f:
        f.write('root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n')


class VM:
    def __init__(self, spec, workdir=None, debug=None):
        self.w = workdir or tempfile.mkdtemp(prefix='agent-vm.')
        self.procs = []
        debug = os.environ.get('BOXVM_DEBUG') == '1' if debug is None else debug
        kdir = kernel_dir()
        ver, mods = module_files(kdir)
        agent = os.environ.get('BOXVM_AGENT', os.path.join(ROOT, 'build/boxvm-agent'))
        ents = [('lib', 0o40755, None), ('lib/boxvm-modules', 0o40755, None), ('boxvm', 0o40755, None)]
        ents.append(('init', 0o100755, open(agent, 'rb').read()))
        for i, m in enumerate(mods):
            ents.append(('lib/boxvm-modules/%02d-%s' % (10 + i, os.path.basename(m)), 0o100644,
                         open(m, 'rb').read()))
        base = cpio_newc(ents)
        seg = cpio_newc([('boxvm', 0o40755, None), ('boxvm/spec', 0o100644, spec)])
        with open(os.path.join(self.w, 'initrd'), 'wb') as f:
            f.write(base + seg)
        self.rootfs = os.path.join(self.w, 'rootfs')
        if not os.path.isdir(self.rootfs):
            make_rootfs(self.rootfs)
        vfs = os.path.join(self.w, 'vfs.sock')
        self.ctl = os.path.join(self.w, 'ctl.sock')
        for p in (vfs, self.ctl):
            if os.path.exists(p):
                os.unlink(p)
        self.procs.append(subprocess.Popen(
            ['/usr/lib/qemu/virtiofsd', '--socket-path=' + vfs, '-o', 'source=' + self.rootfs,
             '-o', 'cache=none', '-o', 'xattr'],
            stdout=open(os.path.join(self.w, 'virtiofsd.log'), 'w'), stderr=subprocess.STDOUT))
        for _ in range(200):
            if os.path.exists(vfs):
                break
            time.sleep(0.02)
        mhz = float([l for l in open('/proc/cpuinfo') if l.startswith('cpu MHz')][0].split(':')[1])
        khz = int(mhz * 1000)
        append = 'console=ttyS0 panic=-1 reboot=t quiet tsc_early_khz=%d lpj=%d' % (khz, khz * 4)
        if debug:
            append += ' boxvm.debug=1'
        self.console = os.path.join(self.w, 'console.log')
        self.t0 = time.monotonic()
        self.qemu = subprocess.Popen(
            ['qemu-system-x86_64', '-M', 'microvm,x-option-roms=off,isa-serial=on,rtc=off,memory-backend=mem',
             '-global', 'virtio-mmio.force-legacy=false', '-accel', 'tcg,thread=multi', '-cpu', 'max',
             '-m', '256', '-smp', '2', '-nodefaults', '-no-user-config', '-nographic',
             '-serial', 'file:' + self.console,
             '-object', 'memory-backend-memfd,id=mem,size=256M,share=on',
             '-chardev', 'socket,id=vfs,path=' + vfs, '-device', 'vhost-user-fs-device,chardev=vfs,tag=rootfs',
             '-device', 'virtio-serial-device',
             '-chardev', 'socket,id=ctl,path=%s,server=on,wait=off' % self.ctl,
             '-device', 'virtserialport,chardev=ctl,name=boxvm.ctl',
             '-kernel', glob.glob(os.path.join(kdir, 'boot/vmlinuz-*'))[0], '-initrd',
             os.path.join(self.w, 'initrd'), '-append', append, '-no-reboot'],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.w, 'qemu.log'), 'w'))
        self.procs.append(self.qemu)
        self.mux = muxclient.Mux(self.ctl)

    def wait_exit(self, timeout=30):
        """Wait for the VM to power off; returns seconds waited."""
        t = time.monotonic()
        self.qemu.wait(timeout)
        return time.monotonic() - t

    def console_text(self):
        try:
            return open(self.console, errors='replace').read()
        except OSError:
            return ''

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        if os.environ.get('BOXVM_KEEP') != '1' and self.w.startswith(tempfile.gettempdir() + '/agent-vm.'):
            shutil.rmtree(self.w, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
