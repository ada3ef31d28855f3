"""Every agency setting, declared once with its type, default and one line of help.

Values live in the `settings` table; `get` falls back to the declared default. Changing a
setting is a use case like any other: permission checked, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from desktop.domain.errors import UserError
from desktop.domain.ledger import PRINTABLE_CURRENCIES
from desktop.domain.roles import Permission
from desktop.persistence.models import Setting
from desktop.services.core.context import Actor, AppContext


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    help: str
    #: the smallest value ``set_value`` takes (a number setting)
    minimum: int | None = None
    #: the only values ``set_value`` takes (upper-cased codes, e.g. the currencies the notices can print)
    choices: frozenset[str] | None = None


SETTINGS: dict[str, SettingSpec] = {s.key: s for s in [
    SettingSpec("agency.name", str, "City of Los Angeles", "the agency's name as printed on notices"),
    SettingSpec("agency.department", str, "Department of Transportation — Parking Enforcement",
                "the department line under the agency's name"),
    SettingSpec("agency.address", list, ["PO Box 30420", "Los Angeles, CA 90030-0420"],
                "the return address, one line per item"),
    SettingSpec("agency.phone", str, "(866) 561-9742", "the public enquiry line"),
    SettingSpec("agency.pay_url", str, "https://pay.example.gov/c/{citation_number}",
                "online payment address; {citation_number} is replaced"),
    SettingSpec("agency.timezone", str, "America/Los_Angeles", "the agency's time zone (IANA name)"),
    SettingSpec("agency.profile", str, "CA", "the jurisdiction profile for new cases (CA, NYC, ENG)"),
    SettingSpec("agency.currency", str, "USD", "currency of fines and payments", choices=PRINTABLE_CURRENCIES),
    SettingSpec("agency.web_url", str, "pay.example.gov", "the public web address printed on notices"),
    SettingSpec("agency.contest_url", str, "example.gov/contest", "where a motorist contests online"),
    SettingSpec("agency.office_hours", str, "Mon-Fri 8:00 a.m. to 4:30 p.m.", "counter and telephone hours"),
    SettingSpec("agency.email", str, "", "the public e-mail address (optional)"),
    SettingSpec("agency.payee", str, "", "whom cheques are payable to (default: the agency's name)"),
    SettingSpec("agency.pay_by_mail_address", list, [],
                "remittance address for mailed payments, one line per item (default: the return address)"),
    SettingSpec("agency.contest_address", list, [],
                "where written contests go, one line per item (default: the return address)"),
    SettingSpec("agency.counter_address", list, [], "where to pay in person, one line per item"),
    SettingSpec("agency.logo_path", str, "", "an image file printed in the letterhead (optional)"),
    SettingSpec("agency.signature_name", str, "", "who signs letters (default: the department)"),
    SettingSpec("agency.signature_title", str, "", "the signer's title"),
    SettingSpec("agency.identity", dict, {},
                "the issuing authority per jurisdiction profile code (see desktop.services.core.agency); the "
                "home profile falls back to the agency.* settings above"),
    SettingSpec("agency.wording", dict, {},
                "replacement wording for printed documents, by key (see reports.profiles.WORDING_KEYS)"),
    SettingSpec("mail.mailer_id", str, "314159", "USPS Mailer ID for the Intelligent Mail barcode (6 or 9 digits)"),
    SettingSpec("mail.address_correction", str, "none",
                "address correction the IMb asks for: none (STID 300), basic (OneCode ACS, STID 230) or "
                "full_service (Full-Service ACS, STID 320); see desktop.domain.postal"),
    SettingSpec("mail.service_type_id", str, "",
                "IMb service type, 3 digits, only to override mail.address_correction (empty: derived from it)"),
    SettingSpec("mail.barcode_id", str, "00", "IMb barcode identifier (2 digits; 00 = no endorsement line)"),
    SettingSpec("mail.next_serial", int, 1, "next mail-piece serial number; every notice run takes a block"),
    SettingSpec("mail.batch_size", int, 500, "notices per print batch (one PDF each)"),
    SettingSpec("mail.parallel_min_pieces", int, 1000, "runs with at least this many pieces use several processes"),
    SettingSpec("mail.run_max_pieces", int, 20000,
                "the most pieces one notice run prints, oldest queued first (0: no limit); the rest wait for the next run",
                minimum=0),
    SettingSpec("mail.render_processes", int, 0, "processes for large notice runs (0: one per CPU core)"),
    SettingSpec("mail.out_dir", str, "", "folder for print batches (default: the data folder's print folder)"),
    SettingSpec("mail.file_mode", str, "0640",
                "permissions of print batch files, octal (0640: the print server's group may read them)"),
    SettingSpec("mail.colour", bool, False,
                "print the agency colours on notices and letters (off: black ink only, billed as black and white)"),
    SettingSpec("mail.envelope", str, "",
                "envelope, paper and fold the mail is laid out for: empty (the profile's: #10 double window on "
                "Letter, DL on A4), no10, dl, a JSON definition or the path of a JSON file "
                "(see reports.geometry.insert_from_spec)"),
    SettingSpec("plates.daily_run_max_photos", int, 5000,
                "the most photos the daily run reads plates in (about 55 ms each; 0: all); idle workstations read the rest",
                minimum=0),
    SettingSpec("review.photo_minutes", int, 15, "photo time may differ from issue time by this many minutes"),
    SettingSpec("review.photo_metres", int, 100, "photo GPS may be this far from the citation location"),
    SettingSpec("review.duplicate_minutes", int, 30, "same plate and violation within this time is a likely duplicate"),
    SettingSpec("review.duplicate_metres", int, 50, "...and within this distance"),
    SettingSpec("review.late_hours", int, 24, "a citation arriving later than this after issue is flagged"),
    SettingSpec("review.plate_read_percent", int, 95,
                "the plate read from a photo must be this confident (%) to warn that it differs from the typed one"),
    SettingSpec("review.zone_metres", int, 15,
                "a street-segment zone (imported blockface rules) applies to a citation this close to it"),
    SettingSpec("review.code_table", str, "LA",
                "which violation code table (LA, NYC) tells the zone-rule check what rule each code relies on"),
    SettingSpec("map.tile_url", str, "",
                "map tile server, e.g. https://tiles.example.gov/{z}/{x}/{y}.png (empty: plain background, no tiles)"),
    SettingSpec("map.tile_attribution", str, "", "the attribution line the tile server requires"),
    SettingSpec("map.mbtiles_path", str, "",
                "street map for every map screen: an MBTiles file of raster tiles (relative: in the data folder)"),
    SettingSpec("zones.revision", int, 0, "bumped by every zone import so every workstation reloads zone rules"),
    SettingSpec("scofflaw.unpaid_cases", int, 3, "unpaid cases past their final stage that make a plate boot-eligible"),
    SettingSpec("holds.review_days", int, 30, "a case on hold comes up for review this many days after the hold began"),
    SettingSpec("escalation.final_review_days", int, 180,
                "days after a case's last automatic step (collections referral, judgment) until a person reviews it"),
    SettingSpec("sync.auto_minutes", int, 0, "automatic field sync every N minutes (0: off)"),
    SettingSpec("imports.max_file_mb", int, 50, "largest import file (zones, owners, permits), also once un-gzipped"),
    SettingSpec("sync.request_seconds", int, 120,
                "one request to a field endpoint, from connecting to the last byte of its answer, in seconds"),
    SettingSpec("sync.deadline_minutes", int, 60, "a whole sync stops (keeping what it stored) after this many minutes"),
    SettingSpec("sync.max_page_mb", int, 64, "an event page larger than this (MB) is refused as it arrives"),
    SettingSpec("sync.max_photo_mb", int, 64, "a photo larger than this (MB) is refused as it arrives"),
    SettingSpec("sync.max_pages", int, 5000, "event pages one sync asks for at most (the rest wait for the next)"),
    SettingSpec("sync.unregistered_devices", str, "quarantine",
                "a dock bundle of a device not registered here: quarantine (held for a supervisor to accept) "
                "or refuse"),
    SettingSpec("payments.opening_float_cents", int, 10000,
                "cash float a clerk's drawer opens with each business day, in cents"),
    SettingSpec("payments.daily_feeds", list, ["bank", "lockbox", "processor"],
                "payment files expected every business day (bank, lockbox, ach, processor); a missing one "
                "is listed in the daily close"),
    SettingSpec("payments.overpay_confirm_cents", int, 2000,
                "a counter payment more than this many cents above what is owed must be confirmed by the clerk "
                "(the refund it creates is named)"),
    SettingSpec("payments.overpay_confirm_percent", int, 25,
                "...or more than this percentage of what is owed (0: every overpayment is confirmed)"),
    SettingSpec("payments.plan_months", int, 12, "default length in months of an agency payment plan"),
    SettingSpec("payments.max_file_mb", int, 20,
                "largest payment file imported, in MB, before and after gzip is undone (larger files are refused)"),

    SettingSpec("appeals.max_document_mb", int, 10, "largest document (PDF, JPEG, PNG) an appellant may send, in MB"),
    SettingSpec("appeals.target_days", int, 30,
                "days to decide an appeal at a level whose law sets no limit (the agency's own target)"),
    SettingSpec("appeals.due_soon_days", int, 7, "appeals with this few days left are listed as due soon"),
    SettingSpec("appeals.hearing_minutes", int, 20, "default length of a hearing"),
    SettingSpec("appeals.hearing_location", list, ["Hearing Room 2", "100 N Main St, Los Angeles CA 90012"],
                "where in-person hearings take place, one line per item"),

    SettingSpec("security.lockout_minutes", int, 15,
                "an account stays locked this many minutes after five failed sign-ins in a row (at least 1)"),
    SettingSpec("security.token_max_days", int, 366, "the longest an API token for unattended jobs may last"),
    SettingSpec("security.idle_lock_minutes", int, 10,
                "a workstation left idle this many minutes locks its screen (0: never); the work on it is kept"),

    SettingSpec("backup.nightly_keep", int, 0,
                "nightly backups the daily run takes and keeps (the newest N; 0: none are taken)"),
    SettingSpec("backup.nightly_dir", str, "",
                "folder of the nightly backups (default: the backups folder in the data folder of the "
                "workstation that runs the daily run); put it on another disk"),

    SettingSpec("patrol.assignments", list, [],
                "patrol assignments pushed to the handhelds when no patrol plan is saved for the days ahead: "
                "[{officer_badge, date, zones, priority}]"),
    SettingSpec("patrol.shift_start", str, "08:00", "when a planned patrol shift starts by default (HH:MM, local)"),
    SettingSpec("patrol.shift_hours", float, 8.0, "how long a planned patrol shift lasts by default, in hours"),
    SettingSpec("patrol.visit_minutes", int, 60, "the shortest planned visit of a zone in a patrol plan, in minutes"),
    SettingSpec("patrol.travel_kmh", float, 15.0,
                "average speed between zones along streets, for the travel time of patrol plans (km/h)"),
    SettingSpec("patrol.history_weeks", int, 8,
                "weeks of citations, checks and shifts behind a patrol plan's zone priorities"),
]}


#: the row the demo builder stamps on the database it fills (not an agency setting: never shown or edited)
DEMO_ANCHOR = "demo.anchor"


def _spec(key: str) -> SettingSpec:
    try:
        return SETTINGS[key]
    except KeyError:
        raise UserError(f"There is no setting called {key}.") from None


#: ``session.info`` key: the settings rows of the session, by key (all of them, loaded in one query)
_LOADED = "curbdesk.settings.loaded"


def get(session: Session, key: str) -> Any:
    """A setting's value (its default when the agency never set it). The first read of a session loads every
    settings row at once (a few dozen small rows) and the session keeps them: a screen such as Review's next
    citation reads a dozen settings, each a round trip to a PostgreSQL server, and a setting never set was
    asked for again at every read. Rows the session adds or deletes are followed (``_follow_flushed``)."""
    spec = _spec(key)
    loaded: dict[str, Setting] | None = session.info.get(_LOADED)
    if loaded is None:
        loaded = {row.key: row for row in session.scalars(select(Setting))}
        session.info[_LOADED] = loaded
    row = loaded.get(key)
    if row is None:  # (one the session added and has not flushed yet)
        row = next((o for o in session.new if isinstance(o, Setting) and o.key == key), None)
    return spec.default if row is None else row.value


def office_currency(session: Session) -> str:
    """The currency the office takes its money in (``agency.currency``, an upper-case ISO 4217 code; " gbp" as
    stored by an older version is GBP): every amount the payment side writes (its screens, the services'
    messages, receipts, the daily close, ``main.py payments``), the printed lists and the management reports
    are in it; a payment file in another is refused whole. The case screens write a case's money in the
    currency of its profile (the same in an office of one country; nothing is converted)."""
    return str(get(session, "agency.currency")).strip().upper()


def read_office_currency(app: AppContext) -> str:
    """``office_currency`` read on its own: for an amount refused before its use case has opened a unit of
    work, or shown beside rows another workflow read (the cases the unmatched queue's search finds)."""
    with app.db.reading() as s:
        return office_currency(s)


@event.listens_for(Session, "after_flush")
def _follow_flushed(session: Session, _context: Any) -> None:
    """The settings rows a session stores or deletes after its first read."""
    loaded = session.info.get(_LOADED)
    if loaded is not None:
        loaded.update({o.key: o for o in session.new if isinstance(o, Setting)})
        for o in session.deleted:
            if isinstance(o, Setting):
                loaded.pop(o.key, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    """A session's next transaction reads the settings again (an administrator may have changed them)."""
    if transaction.parent is None:
        session.info.pop(_LOADED, None)


def read(app: AppContext, key: str) -> Any:
    with app.db.reading() as s:
        return get(s, key)


def is_demo_database(app: AppContext) -> bool:
    """Whether the database holds the demo office (the sign-in then offers the demo accounts)."""
    with app.db.reading() as s:
        return s.get(Setting, DEMO_ANCHOR) is not None


def set_value(app: AppContext, actor: Actor, key: str, value: Any) -> None:
    spec = _spec(key)
    if spec.type is bool and isinstance(value, str):
        words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
        if value.strip().lower() not in words:
            raise UserError(f"{key} is on or off (true/false): {spec.help}.")
        value = words[value.strip().lower()]
    if not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool)):
        try:
            value = spec.type(value)
        except (TypeError, ValueError):
            raise UserError(f"{key} takes a {spec.type.__name__}: {spec.help}.") from None
    if spec.choices is not None:
        value = str(value).strip().upper()
        if value not in spec.choices:
            raise UserError(f"{key} is one of {', '.join(sorted(spec.choices))}, not {value!r}: {spec.help}.")
    if spec.minimum is not None and value < spec.minimum:
        raise UserError(f"{key} must be {spec.minimum} or more, not {value}: {spec.help}.")
    with app.uow(actor, Permission.MANAGE_SETTINGS) as uow:
        row = uow.session.get(Setting, key)
        before = None if row is None else row.value
        if row is None:
            uow.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        uow.audit("setting.changed", "setting", key, before={"value": before}, after={"value": value})
        uow.commit()
