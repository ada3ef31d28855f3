#!/bin/sh
# Smoke test of an installed Curbdesk, run as an ordinary user on the system it was installed on (needs only
# a POSIX shell; installer/install_test.sh runs it in a clean Debian chroot, installer/build.py on the bundle).
#
#     sh installer/smoke.sh [PROGRAM]          (default: curbdesk on the PATH)
#
# It checks: the version, the per-user data folder (platformdirs), a demo office in a scratch folder, the
# sign-in window and the main window painted offscreen (then a clean exit), verify-audit, a backup, a notices
# run (the print batches), a citations export, and a restore of the backup into a new database.
# Any failure stops it with a non-zero exit and the failing step named.
set -eu
EXE=${1:-curbdesk}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/curbdesk-smoke.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export QT_QPA_PLATFORM=offscreen QTWEBENGINE_DISABLE_SANDBOX=1
unset CURBDESK_DB CURBDESK_TOKEN CURBDESK_DATA_DIR CURBDESK_AUDIT_KEY || true

step() { echo "--- $*"; }
fail() { echo "SMOKE TEST FAILED: $*" >&2; exit 1; }

step "version"
"$EXE" --version | grep -q '^Curbdesk [0-9]' || fail "--version"

step "per-user data folder"
# the smallest office the demo makes, in the user's own data folder (XDG: ~/.local/share/Curbdesk)
"$EXE" demo --citations 5 >/dev/null || fail "demo in the user's data folder"
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
[ -s "$DATA_HOME/Curbdesk/curbdesk.sqlite3" ] || fail "no database in $DATA_HOME/Curbdesk"

export CURBDESK_DATA_DIR="$SCRATCH/office"
step "demo office in $CURBDESK_DATA_DIR"
"$EXE" demo --citations 40 || fail "demo"

step "sign-in window painted, clean exit"
CURBDESK_EXIT_AFTER_PAINT=1 "$EXE" | grep -q 'first paint (sign-in)' || fail "sign-in did not paint"

step "main window painted as the clerk, clean exit"
CURBDESK_DEMO_LOGIN=clerk CURBDESK_EXIT_AFTER_PAINT=1 "$EXE" | grep -q 'first paint (window)' \
    || fail "main window did not paint"

export CURBDESK_USER=admin CURBDESK_PASSWORD=curbdesk-admin
step "verify-audit"
"$EXE" verify-audit || fail "verify-audit"

step "backup"
"$EXE" db backup "$SCRATCH/office-backup.sqlite3" || fail "db backup"

step "notices run (the demo's own runs printed its batches with the bundled ReportLab)"
"$EXE" notices --due --out "$SCRATCH/print" || fail "notices --due"
FIRST_PDF=$(ls "$CURBDESK_DATA_DIR"/print/batches/*.pdf 2>/dev/null | head -n 1)
[ -n "$FIRST_PDF" ] || fail "no print batch in $CURBDESK_DATA_DIR/print/batches"
[ "$(head -c 5 "$FIRST_PDF")" = "%PDF-" ] || fail "$FIRST_PDF is not a PDF"

step "export citations"
"$EXE" export citations --out "$SCRATCH/citations.csv" || fail "export citations"
[ "$(wc -l < "$SCRATCH/citations.csv")" -gt 40 ] || fail "the export is short"

step "restore the backup into a new database"
"$EXE" --db "sqlite:///$SCRATCH/restored.sqlite3" db restore "$SCRATCH/office-backup.sqlite3" || fail "db restore"
"$EXE" --db "sqlite:///$SCRATCH/restored.sqlite3" verify-audit || fail "verify-audit of the restored database"

echo "SMOKE TEST PASSED: $("$EXE" --version)"
