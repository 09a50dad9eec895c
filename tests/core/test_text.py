from hypothesis import given
from hypothesis import strategies as st

from dothi.core.text import fold


def test_fold_strips_vietnamese_diacritics() -> None:
    assert fold("Phường 7") == "phuong 7"
    assert fold("ĐỨC NHUẬN") == "duc nhuan"
    assert fold("  Cầu   Kiệu ") == "cau kieu"
    assert fold("Nguyễn Văn Trỗi") == "nguyen van troi"


@given(st.text())
def test_fold_is_idempotent_and_plain(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert "đ" not in folded
