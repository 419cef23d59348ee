"""Finding the processes a test started through make or a management command (it knows no pids)."""

from pathlib import Path


def processes_using(var_dir: Path) -> list[int]:
    """Processes whose environment has SLEEKBATCH_VAR_DIR=``var_dir``: what a test started, and their children."""
    marker = f"SLEEKBATCH_VAR_DIR={var_dir}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return pids
