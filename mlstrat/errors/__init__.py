"""Manual error analysis: sample dev errors, tag them, and see what to work on next.

The course's spreadsheet of misclassified dev examples as software: a seeded sample
of the errors (:func:`new_session`), categories and tags stored cell by cell in the
project store, a summary with Wilson intervals and ceilings (:class:`ErrorSummary`),
an XLSX/CSV round trip with live formulas, and two assistants that propose and never
apply: slices where errors concentrate and candidate mislabelled examples.
"""

from mlstrat.errors._mislabels import MislabelReport, find_label_issues
from mlstrat.errors._session import (
    BUILTIN_CATEGORY,
    Session,
    list_sessions,
    new_session,
    open_session,
)
from mlstrat.errors._sheets import (
    ImportReport,
    TagImportError,
    export_session,
    guard_text,
    import_tags,
    unguard_text,
)
from mlstrat.errors._slices import SliceReport, find_slices
from mlstrat.errors._summary import (
    ErrorSummary,
    summarize,
    summary_from_counts,
    summary_from_matrix,
)

__all__ = [
    "BUILTIN_CATEGORY",
    "ErrorSummary",
    "ImportReport",
    "MislabelReport",
    "Session",
    "SliceReport",
    "TagImportError",
    "export_session",
    "find_label_issues",
    "find_slices",
    "guard_text",
    "import_tags",
    "list_sessions",
    "new_session",
    "open_session",
    "summarize",
    "summary_from_counts",
    "summary_from_matrix",
    "unguard_text",
]
