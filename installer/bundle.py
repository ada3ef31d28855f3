"""What goes into the PyInstaller bundle besides the Python modules PyInstaller finds by itself: one list,
read by the spec (installer/curbdesk.spec) and checked by the suite (tests/unit/core/test_installer.py).

Kept free of PyInstaller imports so that the test can read it without PyInstaller's hooks.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: our own files that are not Python modules: (folder in the checkout, folder in the bundle)
OWN_DATA = [
    ("resources", "resources"),  # profiles, reference tables, the password list, icons
    ("desktop/persistence/migrations", "desktop/persistence/migrations"),  # Alembic reads the files themselves
]

#: packages whose data files are read at run time (PyInstaller's collect_data_files over each)
PACKAGE_DATA = [
    "xstatic",      # Leaflet and jQuery for the offline map
    "folium",
    "branca",
    "usaddress",    # the trained address model
    "reportlab",    # fonts
    "rapidocr_onnxruntime",  # the plate reader's ONNX models (issue 20; nothing is downloaded)
]

#: modules imported by name at run time (plugins, lazily chosen drivers), beyond what is imported directly
HIDDEN_IMPORTS = [
    "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "psycopg", "argon2",
    "keyring.backends", "xstatic.pkg.leaflet", "xstatic.pkg.jquery", "rapidocr_onnxruntime.ch_ppocr_rec",
]
#: every module of these packages: commands and screens are imported by name (desktop.cli, main_window);
#: ReportLab imports each barcode (reportlab.graphics.barcode.code93 ...) and font table by name
ALL_SUBMODULES = ["desktop", "reports", "alembic", "reportlab"]

#: never in the bundle: development tools (none of them may be imported by desktop/ or reports/)
EXCLUDES = ["tkinter", "pytest", "hypothesis", "mypy", "IPython", "ruff", "PyInstaller"]


def own_datas(root: Path = ROOT) -> list[tuple[str, str]]:
    return [(str(root / src), dest) for src, dest in OWN_DATA]
