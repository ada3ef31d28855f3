"""Build the one-folder bundle with PyInstaller, then smoke-test what was built.

    python installer/build.py            build into dist/curbdesk and smoke-test it
    python installer/build.py --smoke    only smoke-test an existing dist/curbdesk

The smoke test runs the built program, not the source: it creates a fresh demo database
in a temporary folder, verifies the audit trail, exports citations, then opens the main
window offscreen and waits for its first paint before it exits. Any failure exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist" / "curbdesk"


def build() -> None:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"),
                    str(ROOT / "installer" / "curbdesk.spec")], check=True, cwd=ROOT)


def smoke() -> None:
    exe = DIST / ("curbdesk.exe" if os.name == "nt" else "curbdesk")
    if not exe.exists():
        sys.exit(f"no bundle at {exe}: build it first")
    with tempfile.TemporaryDirectory() as tmp:
        # every command but demo signs in: the demo's administrator (README)
        env = dict(os.environ, CURBDESK_DATA_DIR=tmp, QT_QPA_PLATFORM="offscreen",
                   QTWEBENGINE_DISABLE_SANDBOX="1", CURBDESK_USER="admin", CURBDESK_PASSWORD="curbdesk-admin")
        env.pop("CURBDESK_DB", None)
        env.pop("CURBDESK_TOKEN", None)

        def run(*args: str, extra: dict[str, str] | None = None) -> str:
            r = subprocess.run([str(exe), *args], env={**env, **(extra or {})}, capture_output=True,
                               text=True, timeout=600, check=False)
            if r.returncode != 0:
                sys.exit(f"smoke test failed: curbdesk {' '.join(args)} exited {r.returncode}\n{r.stderr}")
            return r.stdout.strip()

        print(run("demo", "--citations", "40"))
        print(run("verify-audit"))
        print(run("export", "citations", "--out", str(Path(tmp) / "c.csv")))
        print(run(extra={"CURBDESK_DEMO_LOGIN": "clerk", "CURBDESK_EXIT_AFTER_PAINT": "1"}))
    size = sum(f.stat().st_size for f in DIST.rglob("*") if f.is_file())
    print(f"smoke test passed; bundle {size / 1e6:.0f} MB at {DIST}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="only smoke-test an existing bundle")
    args = p.parse_args()
    if not args.smoke:
        build()
    smoke()


if __name__ == "__main__":
    main()
