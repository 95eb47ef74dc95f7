"""The heading a finding is shown under: the code's name, made to fit what was actually found.

A slogan purpose is headed as a slogan (not 「目的が書かれていない」), a wish in a task as a wish.
Derived from the finding itself (its code and evidence), so rules and LLM findings read alike.
"""

from __future__ import annotations

from coach.critics.forms import Form, sentence_form
from coach.findings import CODE_LABELS, Finding
from coach.text import is_placeholder, normalize


def heading(finding: Finding) -> str:
    code = finding.code
    if code is None:
        return ""
    evidence = finding.evidence
    if code == "PURPOSE_MISSING" and evidence.strip() and not is_placeholder(evidence):
        from coach.critics.rules import purpose_defect  # the rules import the messages; avoid a cycle

        return "目的が標語になっている" if purpose_defect(evidence, "") == "slogan" else "目的が伝わりにくい"
    if code == "TASK_NOT_ACTIONABLE" and sentence_form(normalize(evidence)[0]) is Form.WISH:
        return "課題が願い（〜したい）になっている"
    if code == "PROBLEM_NOT_GAP" and sentence_form(normalize(evidence)[0]) is Form.OBLIGATION:
        return "問題が「しなければならないこと」になっている"
    return CODE_LABELS[code]
