"""The offline rule critic: every code of the contract, with its precedence rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from coach import lexicon as lx
from coach.critics import messages as msg
from coach.critics.analysis import (
    ABSTRACT_RE,
    DIGITISATION_RE,
    SLOGAN_RE,
    TOBE_MEANS_RE,
    TOOL_RE,
    Form,
    concrete_predicates,
    content_tokens,
    content_words,
    has_actor,
    has_actor_subject,
    has_number,
    has_reduction,
    sentence_form,
    stem,
    written_in,
)
from coach.critics.clauses import clause_at, clause_bounds
from coach.critics.means import item_names_means
from coach.critics.purposes import is_request, is_value_phrase
from coach.findings import Code, Finding, severity_of
from coach.sheet import Sheet
from coach.text import Span, is_placeholder, normalize, sentences


def _finding(code: Code, field: str, item: int | None, evidence: str, text: tuple[str, str]) -> Finding:
    message, question = text
    return Finding(
        code=code,
        field=field,  # type: ignore[arg-type]
        item=item,
        severity=severity_of(code),
        evidence=evidence,
        message=message,
        question=question,
    )


class RuleCritic:
    name = "rules"

    def critique(self, sheet: Sheet) -> list[Finding]:
        """Each field's findings depend on its own text (the ToBe's also on the AsIs, the purpose's on
        the ToBe): they are remembered by those texts (`_REMEMBERED`). The editor critiques the whole
        sheet at every typing pause while the writer changes one field, so most of a pause's analysis
        was the same as the pause before (issue #10)."""
        findings: list[Finding] = [
            *_asis(sheet.asis), *_tobe(sheet.asis, sheet.tobe), *_purpose(sheet.purpose, sheet.tobe),
            *_items("problems", sheet.problems), *_items("tasks", sheet.tasks),
        ]
        if not findings:
            message, question = msg.encouragement()
            findings.append(
                Finding(code=None, field="tobe", item=None, severity="info", evidence="",
                        message=message, question=question)
            )
        return findings


# -- fields ------------------------------------------------------------------------------------
# Pure functions of the texts they are given (and of the word lists, fixed at import), remembered in
# bounded caches: a finding depends on nothing else, so the same text gives the same findings to
# whoever typed it. The findings are shared between calls: nothing changes a Finding once made.

# Texts per cache. A writer's unchanged fields are hit at every pause, so they stay; at 50 typists
# (~45 pauses/s) an entry not hit for ~20 s goes. Bounded memory: under 50 MB per process even if every
# text were at its maximum length (coach/sheet.py), a few MB for real sheets.
_REMEMBERED = 1024


def forget() -> None:
    """Empty the caches (tests compare remembered findings with findings computed afresh)."""
    for cached in (_asis, _tobe, _purpose, _item):
        cached.cache_clear()


@lru_cache(maxsize=_REMEMBERED)
def _asis(asis: str) -> tuple[Finding, ...]:
    if is_placeholder(asis):
        return (_finding("FIELD_EMPTY", "asis", None, asis.strip(), msg.field_empty("asis")),)
    return ()


@lru_cache(maxsize=_REMEMBERED)
def _tobe(asis: str, tobe: str) -> tuple[Finding, ...]:
    return tuple(_tobe_findings(asis, tobe))


def _tobe_findings(asis: str, tobe: str) -> Iterator[Finding]:
    if is_placeholder(tobe):
        yield _finding("FIELD_EMPTY", "tobe", None, tobe.strip(), msg.field_empty("tobe"))
        return
    spans = sentences(tobe)
    for span in spans:
        if _names_means(span.norm):
            evidence = _means_clause(span, _names_means)
            yield _finding("SOLUTION_IN_SHEET", "tobe", None, evidence, msg.solution("tobe", evidence))
            return
    mirror = _mirror_sentence(asis, spans)
    if mirror is not None:
        yield _finding("TOBE_MIRRORS_ASIS", "tobe", None, mirror.original, msg.tobe_mirrors(mirror.original))
        return
    vague = _vague_words(tobe)
    if vague:
        yield _finding("TOBE_VAGUE", "tobe", None, vague[0], msg.tobe_vague(vague))


@lru_cache(maxsize=_REMEMBERED)
def _purpose(purpose: str, tobe: str) -> tuple[Finding, ...]:
    if is_placeholder(purpose):
        return (_finding("PURPOSE_MISSING", "purpose", None, purpose.strip(), msg.purpose_missing("empty", "")),)
    kind = purpose_defect(purpose, tobe)
    if kind:
        evidence = purpose.strip()
        return (_finding("PURPOSE_MISSING", "purpose", None, evidence, msg.purpose_missing(kind, evidence)),)
    return ()


def _items(field: str, items: list[str]) -> Iterator[Finding]:
    real = [(i, found) for i, text in enumerate(items) if (found := _item(field, i, text)) is not None]
    if not real:
        evidence = next((t.strip() for t in items if t.strip()), "")
        yield _finding("FIELD_EMPTY", field, None, evidence, msg.field_empty(field))
        return
    for _, found in real:
        yield from found


@lru_cache(maxsize=_REMEMBERED)
def _item(field: str, i: int, text: str) -> tuple[Finding, ...] | None:
    """The findings of row `i` of a list field; None for a placeholder row (not written yet)."""
    if is_placeholder(text):
        return None
    spans = sentences(text)
    if not spans:
        return ()
    tool_span = next((s for s in spans if item_names_means(s.norm, field)), None)
    if tool_span is not None:
        evidence = _means_clause(tool_span, lambda norm: item_names_means(norm, field))
        return (_finding("SOLUTION_IN_SHEET", field, i, evidence, msg.solution(field, evidence)),)
    last = spans[-1]
    form = sentence_form(last.norm)
    if field == "problems" and form in (Form.ACTION, Form.OBLIGATION, Form.WISH):
        return (_finding("PROBLEM_NOT_GAP", field, i, last.original, msg.problem_not_gap(last.original, form)),)
    if field == "tasks" and form in (Form.STATE, Form.WISH):
        return (_finding("TASK_NOT_ACTIONABLE", field, i, last.original,
                         msg.task_not_actionable(last.original, form)),)
    return ()


# -- detectors --------------------------------------------------------------------------------


def _names_means(norm: str) -> bool:
    """In the ToBe, any tool or digitisation named is a means, not a state of people."""
    return bool(TOOL_RE.search(norm) or DIGITISATION_RE.search(norm) or TOBE_MEANS_RE.search(norm))


def _means_clause(span: Span, names: Callable[[str], bool]) -> str:
    """The clause of a sentence that names the means: the first one that does on its own, else
    the one holding the first tool word (the whole sentence when it is one clause)."""
    for begin, end in clause_bounds(span.norm):
        if names(span.norm[begin:end]):
            return clause_at(span, begin)
    found = (TOOL_RE.search(span.norm), DIGITISATION_RE.search(span.norm), TOBE_MEANS_RE.search(span.norm))
    first = [m.start() for m in found if m]
    return clause_at(span, min(first, default=0))


_MIRROR_MAX_NOVEL = 2


def _mirror_sentence(asis: str, spans: list[Span]) -> Span | None:
    """The ToBe mirrors the AsIs when it negates/reduces what the AsIs says and adds no new picture."""
    if not spans:
        return None
    tobe_norm = "".join(s.norm for s in spans)
    if not has_reduction(tobe_norm):
        return None
    reducing = [s for s in spans if has_reduction(s.norm)]
    if _bare_reversal(spans, reducing):
        return reducing[0]
    asis_norm, _ = normalize(asis)
    # People are not the content being turned around: 「住民が迷わない」 shares 住民, not the activity.
    words = [
        t for t in content_tokens(tobe_norm)
        if t.norm not in lx.REDUCTION_LEMMAS and t.norm not in lx.ACTORS and not ABSTRACT_RE.fullmatch(t.norm)
    ]
    novel = [t for t in words if not written_in(t, asis_norm)]
    shared = len(words) - len(novel)
    short = len(words) <= 3
    if len(novel) > _MIRROR_MAX_NOVEL or has_actor_beyond(tobe_norm, asis_norm):
        return None
    # A short ToBe with nothing in common can still be a bare reversal (「待ち時間がなくなる」),
    # unless it is about a person's state (「住民が迷わない」).
    if shared == 0 and (not short or has_actor(tobe_norm)):
        return None
    reducing = [s for s in spans if has_reduction(s.norm)]
    return reducing[0] if reducing else spans[0]


_PEOPLE_GONE = re.compile(r"(者|人|方|員|民|さん)が(い|居)なくなる$|がゼロになる$")


def _bare_reversal(spans: list[Span], reducing: list[Span]) -> bool:
    """A ToBe that only lists reductions (「往復回数の削減。所要時間の短縮。」) or only says the people
    in the AsIs's trouble are gone (「出直す保護者がいなくなる」) turns the AsIs around."""
    ends_reduced = all(has_reduction(s.norm.rstrip("。．. ")[-6:]) for s in spans)
    if ends_reduced and len(reducing) == len(spans) and not any(has_actor(s.norm) for s in spans):
        return True
    last = spans[-1].norm.rstrip("。．.")
    return len(spans) == 1 and bool(_PEOPLE_GONE.search(last))


def has_actor_beyond(tobe_norm: str, asis_norm: str) -> bool:
    """A ToBe that introduces a person and what they can do is drawing a new picture."""
    return has_actor(tobe_norm) and concrete_predicates(tobe_norm) >= 2 and not has_actor(asis_norm)


def _vague_words(tobe: str) -> list[str]:
    norm, index = normalize(tobe)
    found = []
    for m in ABSTRACT_RE.finditer(norm):
        original = tobe[index[m.start()]: index[m.end() - 1] + 1]
        if original not in found:
            found.append(original)
    if not found:
        return []
    if has_number(norm):
        return []
    # Abstract words piled up (「高度化が図られ、満足度の向上と活性化が実現」) or an abstract final
    # predicate (「〜環境が充実しています」) stay vague even beside a person.
    if len(found) >= _PILED_UP or _ABSTRACT_END.search(norm.rstrip("。．. \n")):
        return found
    concrete = has_actor_subject(norm) and concrete_predicates(norm) >= 1
    return [] if concrete else found


_PILED_UP = 3
_ABSTRACT_END = re.compile(
    r"(" + ABSTRACT_RE.pattern + r")(して|されて|が図られて|を図って)?(いる|います|いく|いきます|した状態|している状態|されている状態)"
    r"(である|です|だ)?$"
)


_PURPOSE_SHORT = 25
_RESTATED = 0.8


def purpose_defect(purpose: str, tobe: str) -> str | None:
    norm, _ = normalize(purpose)
    without_slogans = SLOGAN_RE.sub("", norm)
    if is_request(norm):
        return "request"
    rest = [w for w in content_words(without_slogans) if w not in lx.ACTORS]
    if not rest:
        return "slogan"
    if len(norm) < _PURPOSE_SHORT and (not has_actor(norm) or is_value_phrase(norm)):
        return "slogan"
    words = content_words(norm)
    tobe_norm, _ = normalize(tobe)
    if tobe_norm.strip() and words:
        own = [w for w in words if w not in lx.ACTORS]
        in_tobe = [w for w in own if stem(w) in tobe_norm]
        if len(norm) < _PURPOSE_SHORT and len(in_tobe) * 2 >= len(own):
            return "restates"
        # A longer purpose that says only what the ToBe says, in the same words, gives no reason.
        if len(own) >= 4 and len(in_tobe) >= _RESTATED * len(own):
            return "restates"
    return None


# -- corroboration for the LLM ---------------------------------------------------------------------


def plausible(sheet: Sheet, finding: Finding) -> bool:
    """Did the rules' own analysis see at least a weak signal of this code at this place?

    The LLM may add what the rules did not say only where this holds: the rules stay the floor,
    and the model breaks ties where the rules were unsure instead of inventing defects.
    """
    text = sheet.text_of(finding.field, finding.item)
    norm, _ = normalize(text)
    code = finding.code
    if code == "FIELD_EMPTY":
        return len(norm.strip()) < 6
    if code == "SOLUTION_IN_SHEET":
        return bool(TOOL_RE.search(norm) or DIGITISATION_RE.search(norm))
    if code == "TOBE_MIRRORS_ASIS":
        return has_reduction(norm)
    if code == "TOBE_VAGUE":
        return bool(ABSTRACT_RE.search(norm))
    if code == "PURPOSE_MISSING":
        return len(norm) < 40 or not has_actor(norm)
    spans = sentences(text)
    if not spans:
        return False
    form = sentence_form(spans[-1].norm)
    if code == "PROBLEM_NOT_GAP":
        return form not in (Form.STATE, Form.DONE, Form.EVENT)
    if code == "TASK_NOT_ACTIONABLE":
        return form not in (Form.ACTION, Form.DONE, Form.EVENT)
    return False
