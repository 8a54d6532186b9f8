"""The atomic writer: nothing half-written, nothing left behind, nothing of the user's changed but the content."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tinygrad_lab.utils.files import atomic_path, remove_stale_temporaries, write_atomic

WRITER = textwrap.dedent("""
    import sys, time
    from tinygrad_lab.utils.files import atomic_path
    with atomic_path(sys.argv[1]) as tmp:
        tmp.write_bytes(b"x" * 1000)
        print("writing", flush=True)
        time.sleep(30)
""")


def _start_writer(target):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_save_killed_outright_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "weights.npz"
    proc = _start_writer(target)
    proc.kill()
    proc.wait()
    assert len(_temporaries(tmp_path)) == 1 and not target.exists()
    write_atomic(target, b"new")
    assert _temporaries(tmp_path) == []
    assert target.read_bytes() == b"new"


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")
def test_a_terminated_save_removes_its_own_temporary_and_still_dies_of_sigterm(tmp_path):
    target = tmp_path / "weights.npz"
    target.write_bytes(b"old")
    proc = _start_writer(target)
    proc.terminate()
    assert proc.wait(timeout=20) == -signal.SIGTERM
    assert _temporaries(tmp_path) == []
    assert target.read_bytes() == b"old"


def test_temporaries_of_running_processes_and_other_files_are_kept(tmp_path):
    target = tmp_path / "w.npz"
    mine = tmp_path / f".w.npz.{os.getpid()}.0123abcd.tmp"       # this process is alive
    other_target = tmp_path / ".x.npz.999999999.0123abcd.tmp"        # another target's temporary
    for p in (mine, other_target):
        p.write_bytes(b"")
    assert remove_stale_temporaries(target) == []
    assert mine.exists() and other_target.exists()


def test_a_dead_process_temporary_is_removed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()                                   # its pid is now free (and very unlikely to be reused at once)
    stale = tmp_path / f".w.npz.{proc.pid}.0123abcd.tmp"
    stale.write_bytes(b"")
    assert remove_stale_temporaries(tmp_path / "w.npz") == [stale]


def test_saving_over_a_file_keeps_its_permission_bits(tmp_path):
    target = tmp_path / "secret.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "model.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert _temporaries(tmp_path) == [] and _temporaries(real.parent) == []


def test_a_write_error_names_the_target_not_the_temporary(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OSError) as info:
        with atomic_path(target) as tmp:
            raise PermissionError(13, "Permission denied", str(tmp))
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)
    assert _temporaries(tmp_path) == [] and not target.exists()


def test_an_error_in_the_block_leaves_the_old_file(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and _temporaries(tmp_path) == []
