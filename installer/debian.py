"""The Debian package around the PyInstaller bundle (`python installer/build.py --deb`).

    /opt/curbdesk/                         the one-folder bundle (dist/curbdesk)
    /usr/bin/curbdesk                      a link to /opt/curbdesk/curbdesk: the same program for commands
    /usr/share/applications/curbdesk.desktop    the menu entry (installer/curbdesk.desktop)
    /usr/share/icons/hicolor/256x256/apps/curbdesk.png
    /usr/share/doc/curbdesk/copyright

Each user's data (database, evidence, logs, backups) lives in their own data folder (platformdirs:
``~/.local/share/Curbdesk``), which the package never touches: removing it leaves every office's data.
The Qt libraries the bundle loads from the system are the package's dependencies (their Debian names, the
list of /work/shared/PLATFORM-NOTES.md plus what the clean-system install showed); pg_dump and pg_restore
for PostgreSQL offices come from postgresql-client (recommended).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = "curbdesk"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INSTALL_DIR = "/opt/curbdesk"

#: system libraries Qt (widgets, xcb, WebEngine, printing) needs on a clean Debian 12
DEPENDS = [
    "libc6", "libegl1", "libgl1", "libx11-6", "libdbus-1-3", "libfontconfig1", "libfreetype6", "libglib2.0-0",
    "libxkbcommon0", "libnss3", "libxcomposite1", "libxdamage1", "libxtst6", "libasound2", "libxrandr2",
    "libxext6", "libxfixes3", "libxkbfile1", "libxshmfence1", "libdrm2", "libgbm1", "libexpat1", "libcups2",
    "libxcb-cursor0", "libxkbcommon-x11-0", "libx11-xcb1", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1",
    "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxcb1", "fonts-dejavu-core",
]
RECOMMENDS = ["postgresql-client"]

DESCRIPTION = """Back office of a parking enforcement agency
 Curbdesk receives citations from the handheld fleet, has clerks review them
 against photo and map evidence, runs the cases through their notices and
 penalties, posts payments, handles appeals and hearings, and prints the
 mailed notices. SQLite for one workstation, PostgreSQL for an office."""

POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
exit 0
"""
# removal: the menu caches forget the entry; every user's data folder is left alone (it holds the office)
POSTRM = POSTINST.replace('"$1" = configure', '"$1" = remove ] || [ "$1" = purge')

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Curbdesk
Comment: The bundle under /opt/curbdesk includes Python, Qt (PySide6, LGPLv3) and the Python packages listed
 in Curbdesk's pyproject.toml, each under its own licence (see their .dist-info folders in the bundle).
"""


def architecture() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "amd64"


def control(version: str, installed_kb: int, arch: str) -> str:
    """The DEBIAN/control file (Debian Policy 5.3, 5.6)."""
    return (f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\n"
            "Maintainer: Curbdesk <curbdesk@example.gov>\nSection: misc\nPriority: optional\n"
            f"Installed-Size: {installed_kb}\nDepends: {', '.join(DEPENDS)}\n"
            f"Recommends: {', '.join(RECOMMENDS)}\nDescription: {DESCRIPTION}\n")


def desktop_entry() -> str:
    """The menu entry (freedesktop Desktop Entry Specification 1.5): installer/curbdesk.desktop."""
    return (HERE / "curbdesk.desktop").read_text(encoding="utf-8")


def _tree_kb(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) // 1024 + 1


def stage(bundle: Path, staging: Path, version: str, arch: str | None = None) -> Path:
    """Lay out the package's files under `staging` (emptied first); the bundle is hard-linked where the file
    system allows (copied otherwise): no second 700 MB copy."""
    if staging.exists():
        shutil.rmtree(staging)
    opt = staging / INSTALL_DIR.lstrip("/")
    opt.parent.mkdir(parents=True)
    try:
        shutil.copytree(bundle, opt, symlinks=True, copy_function=os.link)
    except OSError:
        shutil.rmtree(opt, ignore_errors=True)
        shutil.copytree(bundle, opt, symlinks=True)
    (staging / "usr/bin").mkdir(parents=True)
    (staging / "usr/bin/curbdesk").symlink_to(f"{INSTALL_DIR}/curbdesk")
    apps = staging / "usr/share/applications"
    apps.mkdir(parents=True)
    (apps / "curbdesk.desktop").write_text(desktop_entry(), encoding="utf-8")
    icons = staging / "usr/share/icons/hicolor/256x256/apps"
    icons.mkdir(parents=True)
    shutil.copyfile(ROOT / "resources/branding/curbdesk.png", icons / "curbdesk.png")
    doc = staging / "usr/share/doc/curbdesk"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT, encoding="utf-8")
    debian = staging / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control(version, _tree_kb(staging), arch or architecture()), encoding="utf-8")
    for name, text in (("postinst", POSTINST), ("postrm", POSTRM)):
        (debian / name).write_text(text, encoding="utf-8")
        (debian / name).chmod(0o755)
    return staging


def build_deb(bundle: Path, out_dir: Path, version: str, *, compression: str = "gzip") -> Path:
    """dist/curbdesk_<version>_<arch>.deb from the bundle (dpkg-deb, files owned by root)."""
    arch = architecture()
    staging = stage(bundle, out_dir / "deb-staging", version, arch)
    target = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(staging), str(target)],
                   check=True)
    shutil.rmtree(staging)
    return target
