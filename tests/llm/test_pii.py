"""Personal data in realistic sheets is masked; the numbers a sheet needs are not."""

from __future__ import annotations

import pytest

from coach.llm.pii import mask

SHEET = (
    "窓口担当の佐藤一郎さん（内線 0155-54-2111）が、申請者の山田花子様（昭和30年5月6日生まれ、"
    "〒089-0604 北海道幕別町本町12-3、hanako.yamada@example.jp、個人番号 1234 5678 9012）の"
    "申請書を毎回手で書き写している。携帯 090-1234-5678 にも確認の電話をする。"
)


@pytest.mark.parametrize(
    "secret",
    ["佐藤一郎", "山田花子", "0155-54-2111", "昭和30年5月6日生まれ", "〒089-0604", "北海道幕別町本町12-3",
     "hanako.yamada@example.jp", "1234 5678 9012", "090-1234-5678"],
)
def test_each_kind_is_masked(secret: str) -> None:
    masked = mask({"asis": SHEET})
    assert secret not in masked.text["asis"]
    assert masked.unmask(masked.text["asis"]) == SHEET


@pytest.mark.parametrize(
    "text",
    ["受付は平日8:45〜17:30、1件あたり平均40分。", "2024年度は約1,800枚、月に300件を超える。",
     "3〜4月は待ち時間が1時間を超える日がある。", "町内32施設を年2回点検している。", "第3版を令和6年4月に改訂した。"],
)
def test_numbers_the_sheet_needs_stay(text: str) -> None:
    assert mask({"asis": text}).text["asis"] == text


def test_the_same_person_gets_the_same_token_across_fields() -> None:
    masked = mask({"asis": "田中さんが毎朝電話を受けている。", "tobe": "田中さんが電話に追われずに相談に集中できている。"})
    token = masked.text["asis"][:5]
    assert token.startswith("［氏名") and masked.text["tobe"].startswith(token)
    assert masked.summary() == [("氏名", token)]


@pytest.mark.parametrize("text", ["住民の皆様から問い合わせが多い。", "お客様を窓口で待たせている。", "患者さんが会計で25分待つ。"])
def test_honorific_words_that_are_not_names_are_left_alone(text: str) -> None:
    assert mask({"asis": text}).text["asis"] == text
