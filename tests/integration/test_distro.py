"""A real distribution in a box, as users run them: Debian bookworm minbase
(made by mmdebstrap from Debian's archive, scripts/make-debian-image.sh)
installs a package with apt-get over the box's network and runs it. Busybox
alone hides what this exercises: apt's privilege drop to _apt (setgroups,
setuid under Docker's default capabilities), dpkg's renames and fsyncs on
the virtiofs root, /dev/null and /tmp, and DNS and HTTP through passt."""
import os

from conftest import BUILD, HANG_GUARD

DEBIAN_TAR = os.path.join(BUILD, "images", "debian.tar")


def test_apt_get_install_in_a_debian_box(no_leaks):
    assert os.path.exists(DEBIAN_TAR), "make distro-image first (make check builds it)"
    bx = no_leaks
    bx("load", "-q", "-i", DEBIAN_TAR, check=0)
    try:
        # hang guard only: apt under TCG parses the whole archive index
        p = bx("run", "--rm", "debian:bookworm", "sh", "-c",
               "apt-get update -qq && apt-get install -y -qq --no-install-recommends hello >/dev/null 2>&1"
               " && hello && dpkg -s hello | grep -c '^Status: install ok installed'",
               timeout=3 * HANG_GUARD)
        assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
        assert p.stdout.decode().splitlines()[-2:] == ["Hello, world!", "1"], p.stdout
    finally:
        bx("rmi", "debian:bookworm")
