"""The installers' cheap parts, checked with the suite; the full build and the clean-system install are
documented commands (installer/build.py --deb, installer/install_test.sh; minutes, not seconds).

- the version is written once (desktop.__version__) and is what pyproject, `main.py --version` and the
  packages carry;
- the bundle's list (installer/bundle.py) holds every file of ours that is not a Python module, and excludes
  nothing the program imports;
- the .deb's layout, control file and menu entry are right, and dpkg-deb builds it (from a stand-in bundle);
- the Windows installer definition makes Start-menu entries, an uninstaller, and takes its version from the
  build script;
- the smoke-test scripts parse, and do what the issue asks of a smoke test.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import desktop

ROOT = Path(__file__).resolve().parents[3]
INSTALLER = ROOT / "installer"
sys.path.insert(0, str(INSTALLER))
import bundle  # noqa: E402
import debian  # noqa: E402


def test_the_version_is_written_once_and_read_everywhere() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "desktop.__version__"}
    assert importlib.metadata.version("curbdesk") == desktop.__version__  # the installed metadata agrees
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == f"Curbdesk {desktop.__version__}"


def _tracked(folder: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", folder], capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return out.stdout.split()


def test_the_bundle_list_holds_every_file_of_ours_that_is_not_a_module() -> None:
    sources = [src for src, _dest in bundle.OWN_DATA]
    needed = [f for f in _tracked("desktop") + _tracked("reports") + _tracked("resources") if not f.endswith(".py")]
    assert needed
    missing = [f for f in needed if not any(f.startswith(src + "/") for src in sources)]
    assert missing == []
    for src, dest in bundle.OWN_DATA:
        assert (ROOT / src).is_dir() and src == dest  # the bundle keeps the checkout's layout (desktop.resources)
    spec = (INSTALLER / "curbdesk.spec").read_text()
    for name in ("bundle.own_datas", "bundle.PACKAGE_DATA", "bundle.HIDDEN_IMPORTS", "bundle.ALL_SUBMODULES",
                 "bundle.EXCLUDES"):
        assert name in spec


def _imported_top_names(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_the_bundle_excludes_nothing_the_program_imports() -> None:
    """pypdf was excluded once while the letter batches merge their pages with it: every notice run with a
    letter failed in the bundle only."""
    imported = _imported_top_names(ROOT / "desktop") | _imported_top_names(ROOT / "reports")
    assert "pypdf" in imported
    assert set(bundle.EXCLUDES) & imported == set()


def _fake_bundle(tmp: Path) -> Path:
    b = tmp / "bundle"
    (b / "_internal").mkdir(parents=True)
    (b / "curbdesk").write_text("#!/bin/sh\necho Curbdesk\n")
    (b / "curbdesk").chmod(0o755)
    (b / "_internal" / "libstandin.so").write_bytes(b"\0" * 4096)
    return b


def test_the_debian_package_layout_control_file_and_menu_entry(tmp_path: Path) -> None:
    staging = debian.stage(_fake_bundle(tmp_path), tmp_path / "staging", desktop.__version__, "amd64")
    control = dict(line.split(": ", 1) for line in (staging / "DEBIAN/control").read_text().splitlines()
                   if ": " in line and not line.startswith(" "))
    assert control["Package"] == "curbdesk" and control["Version"] == desktop.__version__
    assert control["Architecture"] == "amd64" and int(control["Installed-Size"]) >= 4
    depends = control["Depends"].split(", ")
    assert {"libxcb-cursor0", "libnss3", "libegl1", "libxkbcommon-x11-0"} <= set(depends)
    assert "postgresql-client" in control["Recommends"]
    assert (staging / "opt/curbdesk/curbdesk").stat().st_mode & 0o111
    assert (staging / "usr/bin/curbdesk").readlink() == Path("/opt/curbdesk/curbdesk")
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read_string((staging / "usr/share/applications/curbdesk.desktop").read_text())
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "Curbdesk" and d["Terminal"] == "false"
    assert (staging / d["Exec"].lstrip("/")).exists()  # the entry starts the installed program
    assert (staging / f"usr/share/icons/hicolor/256x256/apps/{d['Icon']}.png").exists()
    assert set(d["Categories"].rstrip(";").split(";")) <= {"Office", "Finance"}
    for script in ("postinst", "postrm"):
        path = staging / "DEBIAN" / script
        assert path.stat().st_mode & 0o111
        subprocess.run(["sh", "-n", str(path)], check=True)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")
def test_dpkg_deb_builds_the_package(tmp_path: Path) -> None:
    deb = debian.build_deb(_fake_bundle(tmp_path), tmp_path, desktop.__version__)
    assert deb.name == f"curbdesk_{desktop.__version__}_{debian.architecture()}.deb"
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version"], capture_output=True, text=True,
                          check=True).stdout
    assert info.split() == ["Package:", "curbdesk", "Version:", desktop.__version__]
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                              check=True).stdout
    assert "root/root" in contents and "./opt/curbdesk/curbdesk" in contents
    assert "./usr/share/applications/curbdesk.desktop" in contents


def test_the_windows_installer_definition() -> None:
    iss = (INSTALLER / "curbdesk.iss").read_text()
    assert "#ifndef AppVersion" in iss and "AppVersion={#AppVersion}" in iss  # no version written here
    assert "/DAppVersion=" in (INSTALLER / "build.py").read_text()
    assert '"{group}\\Curbdesk"' in iss and "{uninstallexe}" in iss  # Start-menu entry and its uninstaller
    assert "PrivilegesRequired=lowest" in iss  # installs per user without administrator rights too
    assert "curbdeskw.exe" in iss and 'name="curbdeskw"' in (INSTALLER / "curbdesk.spec").read_text()
    assert (ROOT / "resources/branding/curbdesk.ico").stat().st_size > 1000
    removed = [ln for ln in iss.split("[UninstallDelete]")[1].splitlines() if ln.startswith("Type:")]
    assert removed and all("{app}" in ln for ln in removed)  # only the program's folder: never the users' data


def test_the_smoke_scripts_parse_and_cover_the_smoke_test() -> None:
    for name in ("smoke.sh", "install_test.sh"):
        subprocess.run(["sh", "-n", str(INSTALLER / name)], check=True)
    smoke = (INSTALLER / "smoke.sh").read_text()
    for step in ("--version", "demo --citations", "CURBDESK_EXIT_AFTER_PAINT=1", "first paint (sign-in)",
                 "verify-audit", "db backup", "notices --due", "export citations", "db restore"):
        assert step in smoke
    install = (INSTALLER / "install_test.sh").read_text()
    assert "--rbind" not in install.replace("never --rbind", "")
    assert "apt-get install" in install and "runuser -u smoketest" in install and "apt-get remove" in install
