"""Field sync use cases: endpoints, Sync now, dock bundles, devices, the quarantine, reference data out.

The GUI (Devices & Sync) and the command line (``sync``, ``import-bundle``, ``devices add``,
``export quarantine``) call these functions. Each checks the acting user's permission; long work
reports ``progress(done, total, text)`` and stops when ``cancel`` says so, keeping everything
committed so far.

One module per concern; the names the screens call are gathered here (``sync_service.sync_now``):

==================  ==========================================================================
``endpoints``       endpoints and their tokens (:class:`TokenStore`, ``TOKENS``)
``run``             Sync now: pages in, batches stored and acknowledged, missing photos asked again
``reference``       reference data pushed to an endpoint
``bundles``         dock bundles and the drop folder
``devices``         handhelds and their signing keys
``quarantine``      events that could not be applied
``field_events``    stored events: skipped ones, one as received, counts
``ingest``          the pipeline every event goes through (endpoint page, bundle, re-submission)
``photo_sources``   where an ingest's photo bytes come from
==================  ==========================================================================
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.services.sync.bundles import (
        BundleResult,
        DeviceNotRegistered,
        DropResult,
        HeldBundleRow,
        ImportedBundleRow,
        accept_held_bundle,
        import_bundle,
        list_held_bundles,
        list_imported_bundles,
        refuse_held_bundle,
        scan_drop_folder,
    )
    from desktop.services.sync.devices import DeviceRow, add_device, list_devices, register_device
    from desktop.services.sync.endpoints import (
        TOKENS,
        EndpointRow,
        TokenStore,
        delete_endpoint,
        endpoint_for_url,
        get_endpoint,
        list_endpoints,
        normalise_url,
        save_endpoint,
    )
    from desktop.services.sync.field_events import (
        SkippedEventRow,
        citations_from_field,
        field_event_counts,
        field_event_raw,
        list_skipped_events,
    )
    from desktop.services.sync.quarantine import (
        QUARANTINE_COLUMNS,
        QuarantineRow,
        count_open_quarantine,
        discard_quarantined,
        export_quarantine,
        list_quarantine,
        quarantine_raw,
        resubmit_quarantined,
    )
    from desktop.services.sync.reference import REFERENCE_ORDER, push_reference, reference_items
    from desktop.services.sync.run import (
        COMMIT_EVENTS,
        HELPER_PROCESS_FROM,
        PAGE_LIMIT,
        SyncSummary,
        recover_missing_photos,
        sync_now,
    )

#: name -> the module that defines it, imported when the name is first asked for (PEP 562): a process that
#: needs one module of the package (the review checks' helper process, the sync command) imports only that
#: one and what it needs, not every module here (the bundles' alone cost a helper about 0.1 s)
_WHERE = {
    "BundleResult": "bundles",
    "DeviceNotRegistered": "bundles",
    "DropResult": "bundles",
    "HeldBundleRow": "bundles",
    "ImportedBundleRow": "bundles",
    "accept_held_bundle": "bundles",
    "import_bundle": "bundles",
    "list_held_bundles": "bundles",
    "list_imported_bundles": "bundles",
    "refuse_held_bundle": "bundles",
    "scan_drop_folder": "bundles",
    "DeviceRow": "devices",
    "add_device": "devices",
    "list_devices": "devices",
    "register_device": "devices",
    "EndpointRow": "endpoints",
    "TOKENS": "endpoints",
    "TokenStore": "endpoints",
    "delete_endpoint": "endpoints",
    "endpoint_for_url": "endpoints",
    "get_endpoint": "endpoints",
    "list_endpoints": "endpoints",
    "normalise_url": "endpoints",
    "save_endpoint": "endpoints",
    "SkippedEventRow": "field_events",
    "citations_from_field": "field_events",
    "field_event_counts": "field_events",
    "field_event_raw": "field_events",
    "list_skipped_events": "field_events",
    "QUARANTINE_COLUMNS": "quarantine",
    "QuarantineRow": "quarantine",
    "count_open_quarantine": "quarantine",
    "discard_quarantined": "quarantine",
    "export_quarantine": "quarantine",
    "list_quarantine": "quarantine",
    "quarantine_raw": "quarantine",
    "resubmit_quarantined": "quarantine",
    "REFERENCE_ORDER": "reference",
    "push_reference": "reference",
    "reference_items": "reference",
    "COMMIT_EVENTS": "run",
    "HELPER_PROCESS_FROM": "run",
    "PAGE_LIMIT": "run",
    "SyncSummary": "run",
    "recover_missing_photos": "run",
    "sync_now": "run",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "COMMIT_EVENTS",
    "HELPER_PROCESS_FROM",
    "PAGE_LIMIT",
    "QUARANTINE_COLUMNS",
    "REFERENCE_ORDER",
    "TOKENS",
    "BundleResult",
    "DeviceNotRegistered",
    "DeviceRow",
    "HeldBundleRow",
    "DropResult",
    "EndpointRow",
    "ImportedBundleRow",
    "QuarantineRow",
    "SkippedEventRow",
    "SyncSummary",
    "TokenStore",
    "accept_held_bundle",
    "add_device",
    "citations_from_field",
    "count_open_quarantine",
    "delete_endpoint",
    "discard_quarantined",
    "endpoint_for_url",
    "export_quarantine",
    "field_event_counts",
    "field_event_raw",
    "get_endpoint",
    "import_bundle",
    "list_devices",
    "list_endpoints",
    "list_held_bundles",
    "list_imported_bundles",
    "list_quarantine",
    "list_skipped_events",
    "normalise_url",
    "push_reference",
    "quarantine_raw",
    "recover_missing_photos",
    "reference_items",
    "refuse_held_bundle",
    "register_device",
    "resubmit_quarantined",
    "save_endpoint",
    "scan_drop_folder",
    "sync_now",
]
