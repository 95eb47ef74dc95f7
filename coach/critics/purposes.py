"""Forms of a purpose that give no reason (PURPOSE_MISSING), beside the slogan lexicon and the
restatement of the ToBe in `rules.purpose_defect`:
- a question or request to the coach (「どのアプリがよいか教えてほしい」): it asks, it does not say why;
- a value of a person with no predicate (「子どもの安全のため」「職員の資質向上」): a person only as a
  possessive, and nothing anyone does or can do — a slogan however specific its nouns.
"""

from __future__ import annotations

import re

from coach import lexicon as lx
from coach.critics.analysis import has_actor_subject
from coach.text import tokenize

_REQUEST = re.compile(
    r"(教えて|紹介して|提案して|勧めて|すすめて|選んで|アドバイスして)"
    r"(ほしい|欲しい|ください|下さい|くれ|もらいたい|もらえ|いただきたい|頂きたい|いただけ)"
    r"|(か|のか)を?(知りたい|教えて)|(でしょうか|ですか|ますか)[?？]?$|[?？]$"
)


def is_request(norm: str) -> bool:
    return bool(_REQUEST.search(norm.strip().rstrip("。．.!！")))


def _has_predicate(norm: str) -> bool:
    """A verb or adjective saying what someone does or can do (not する, なる, 図る …)."""
    for t in tokenize(norm):
        if t.pos == "動詞" and t.lemma not in lx.GENERIC_VERBS and t.norm not in lx.GENERIC_VERBS:
            return True
        if t.pos == "形容詞" and t.lemma not in ("ない", "無い"):
            return True
    return False


def is_value_phrase(norm: str) -> bool:
    """Nouns only, a person at most as a possessive: 「高齢者の安心のため」「職員の意識改革」."""
    return not _has_predicate(norm) and not has_actor_subject(norm)
