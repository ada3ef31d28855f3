"""Build the one-folder bundle with PyInstaller, then smoke-test what was built; package it.

    python installer/build.py            build into dist/curbdesk and smoke-test it
    python installer/build.py --smoke    only smoke-test an existing dist/curbdesk
    python installer/build.py --deb      build, smoke-test, then dist/curbdesk_<version>_<arch>.deb
    python installer/build.py --deb --no-build   package an existing dist/curbdesk
    python installer/build.py --iss      (Windows) build, smoke-test, then the Inno Setup installer

The version is desktop.__version__, read here once and handed to the package and the installer.
Installing the .deb on a clean Debian system and smoke-testing it there: installer/install_test.sh.

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


def version() -> str:
    """desktop.__version__, read from the source (the one place it is written)."""
    sys.path.insert(0, str(ROOT))
    from desktop import __version__

    return __version__


def build() -> None:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                    "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"),
                    str(ROOT / "installer" / "curbdesk.spec")], check=True, cwd=ROOT)


def smoke() -> None:
    exe = DIST / ("curbdesk.exe" if os.name == "nt" else "curbdesk")
    if not exe.exists():
        sys.exit(f"no bundle at {exe}: build it first")
    if os.name != "nt":  # the same script the clean-system install runs (installer/install_test.sh)
        with tempfile.TemporaryDirectory() as home:
            env = {k: v for k, v in os.environ.items() if not k.startswith("CURBDESK_")}
            env.update(HOME=home, XDG_DATA_HOME=str(Path(home) / ".local" / "share"))
            r = subprocess.run(["sh", str(ROOT / "installer" / "smoke.sh"), str(exe)], env=env, check=False)
        if r.returncode != 0:
            sys.exit("smoke test failed (above)")
        size = sum(f.stat().st_size for f in DIST.rglob("*") if f.is_file() and not f.is_symlink())
        print(f"bundle {size / 1e6:.0f} MB at {DIST}")
        return
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
    size = sum(f.stat().st_size for f in DIST.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"smoke test passed; bundle {size / 1e6:.0f} MB at {DIST}")


def iss() -> Path:
    """The Windows installer: Inno Setup 6's compiler (ISCC.exe on the PATH, or ISCC set to its path)."""
    compiler = os.environ.get("ISCC", "ISCC")
    subprocess.run([compiler, f"/DAppVersion={version()}", f"/DSourceDir={DIST}", f"/O{ROOT / 'dist'}",
                    str(ROOT / "installer" / "curbdesk.iss")], check=True)
    return ROOT / "dist" / f"curbdesk-{version()}-setup.exe"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="only smoke-test an existing bundle")
    p.add_argument("--deb", action="store_true", help="then package the bundle as a .deb")
    p.add_argument("--iss", action="store_true", help="then build the Windows installer (Inno Setup 6)")
    p.add_argument("--no-build", action="store_true", help="package the existing bundle without building it")
    args = p.parse_args()
    if not (args.smoke or args.no_build):
        build()
    if not args.no_build:
        smoke()
    if args.deb:
        sys.path.insert(0, str(ROOT / "installer"))
        from debian import build_deb

        print(f"package: {build_deb(DIST, ROOT / 'dist', version())}")
    if args.iss:
        print(f"installer: {iss()}")


if __name__ == "__main__":
    main()
