"""The guest kernel's selection (`boxvm --kernel cloud|tailored`, BOXVM_KERNEL):
what `info` reports, and the one-line error of a tailored kernel that was never
built. Nothing here builds the tailored kernel (`boxvm kernel build` takes
minutes); the last test boots it only where it was built."""
import os
import re
import tempfile

import pytest

from conftest import TAILORED_KERNEL_DIR


@pytest.fixture
def unbuilt(bx):
    """Environment overrides naming an empty tailored kernel directory."""
    with tempfile.TemporaryDirectory(prefix="boxvm-no-tailored.") as d:
        yield {"BOXVM_TAILORED_KERNEL_DIR": d, "BOXVM_KERNEL": ""}


def test_info_reports_cloud_kernel(bx):
    out = bx("--kernel", "cloud", "info", check=0).stdout.decode()
    assert re.search(r"^Kernel:\s+\d+\.\d+\S* \(cloud\)$", out, re.M), out
    assert bx("--kernel=cloud", "info", "-f", "{{.GuestKernelKind}}", check=0).stdout.decode().strip() == "cloud"


def test_tailored_not_built(bx, unbuilt):
    out = bx("--kernel", "tailored", "info", env=unbuilt, check=0).stdout.decode()
    assert "Kernel:          not built (run 'boxvm kernel build') (tailored)" in out
    assert f"Kernel dir:      {unbuilt['BOXVM_TAILORED_KERNEL_DIR']}" in out
    r = bx("info", "-f", "{{.GuestKernelKind}} {{.GuestKernel}}.", env={**unbuilt, "BOXVM_KERNEL": "tailored"},
           check=0)
    assert r.stdout.decode().strip() == "tailored ."
    r = bx("--kernel", "tailored", "run", "--rm", "busybox", "true", env=unbuilt, check=125)
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "boxvm kernel build" in err, err
    assert "tailored" in err
    assert bx("ps", "-aq", check=0).stdout.strip() == b""


def test_unknown_kernel_kind(bx):
    r = bx("--kernel", "debian", "info", check=125)
    assert r.stderr.decode() == ("boxvm: unknown guest kernel 'debian' (BOXVM_KERNEL, --kernel): "
                                 "use 'cloud' or 'tailored'\n")
    r = bx("info", env={"BOXVM_KERNEL": "Tailored"}, check=1)
    assert "unknown guest kernel 'Tailored'" in r.stderr.decode()
    r = bx("--kernel", check=125)
    assert "unknown guest kernel ''" in r.stderr.decode()


def _tailored_built():
    d = TAILORED_KERNEL_DIR
    return os.path.isdir(d) and any(os.path.isfile(os.path.join(d, v, ".complete")) for v in os.listdir(d))


@pytest.mark.skipif(not _tailored_built(), reason="no tailored kernel built (boxvm kernel build)")
def test_tailored_boots_without_modules(bx):
    """The box runs on the tailored kernel, which loads no modules at all."""
    r = bx("--kernel", "tailored", "run", "--rm", "busybox", "sh", "-c",
           "cat /proc/version; test -e /proc/modules && echo modular || echo builtin", check=0)
    out = r.stdout.decode()
    assert "-boxvm " in out and out.rstrip().endswith("builtin"), out
