""""Flagged" and the error/warning counts are one rule each, used by the submission, the queue and the pages."""

from __future__ import annotations

from coach.findings import counts
from coach.service import CritiqueService
from coach.workspace.review import Submission, is_flagged
from tests.conftest import make_sheet
from web.view import counts as shown_counts


def test_counts_are_the_critiques_errors_and_warnings_and_never_encouragement() -> None:
    sheet = make_sheet(tobe="業務を効率化する", tasks=["RPAを導入する"], problems=[])
    findings = CritiqueService().critique(sheet).findings
    counted = counts(findings)
    assert counted["error"] == sum(f.code is not None and f.severity == "error" for f in findings) > 0
    assert counted["warning"] == sum(f.code is not None and f.severity == "warning" for f in findings) > 0
    assert set(counted) == {"error", "warning"}
    assert shown_counts(CritiqueService().critique(sheet)) == counted  # the pages show the same count


def test_a_submission_is_flagged_for_errors_exactly_when_the_count_has_errors() -> None:
    clean = CritiqueService().critique(make_sheet()).findings
    faulty = CritiqueService().critique(make_sheet(tasks=["RPAを導入する"])).findings
    assert counts(faulty)["error"] and "errors" in Submission(faulty).flags
    assert not counts(clean)["error"] and "errors" not in Submission(clean).flags


def test_flagged_means_a_flag_raised_on_a_sheet_still_waiting() -> None:
    assert is_flagged(["hearing"], "waiting")
    assert not is_flagged([], "waiting")
    assert not is_flagged(["errors"], "returned")
    assert not is_flagged(["errors"], "accepted")
