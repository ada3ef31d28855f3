"""The pages of the Patrol & Reports area: (key, title, "module:Class"), in the order listed on the left.

Each class is built with the `UiContext` the first time its page is opened; a page whose module is not
installed is left out of the list. The dashboard comes first (the area opens on it).
"""

from __future__ import annotations

PAGES: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "Dashboard", "desktop.ui.reports.dashboard:DashboardPage"),
    ("compliance", "Compliance map", "desktop.ui.patrol.compliance:ComplianceView"),
    ("patrol-plan", "Patrol plan", "desktop.ui.patrol.plan:PatrolPlanView"),
    ("plan-actual", "Plan vs actual", "desktop.ui.patrol.actual:PlanActualView"),
    ("report-citations", "Citations issued", "desktop.ui.reports.report_page:CitationsReportPage"),
    ("report-review", "Review outcomes", "desktop.ui.reports.report_page:ReviewReportPage"),
    ("report-revenue", "Revenue", "desktop.ui.reports.report_page:RevenueReportPage"),
    ("report-ageing", "Receivables ageing", "desktop.ui.reports.report_page:AgeingReportPage"),
    ("report-notices", "Notices", "desktop.ui.reports.report_page:NoticesReportPage"),
    ("report-appeals", "Appeals", "desktop.ui.reports.report_page:AppealsReportPage"),
    ("report-plans", "Payment plans", "desktop.ui.reports.report_page:PlansReportPage"),
)
