"""Masking of personal data, and the marked columns it applies to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dothi.accounts.models import User
from dothi.accounts.permissions import Role
from dothi.accounts.privacy import (
    mask_email,
    mask_name,
    mask_phone,
    personal,
    personal_columns,
    personal_values,
)

phones = st.from_regex(r"\+?[0-9]{8,15}", fullmatch=True)
words = st.text(st.characters(categories=["L"]), min_size=1, max_size=12)
names = st.lists(words, min_size=1, max_size=5).map(" ".join)
locals_ = st.from_regex(r"[a-z0-9._]{1,20}", fullmatch=True)
domains = st.from_regex(r"[a-z0-9-]{1,15}\.(vn|com|gov\.vn)", fullmatch=True)


def test_examples_from_the_design() -> None:
    assert mask_phone("0912345678") == "091****678"
    assert mask_email("an.nguyen@example.vn") == "a***@example.vn"
    assert mask_name("Nguyễn Văn An") == "N*** V*** A***"


@given(phones)
def test_a_masked_phone_keeps_length_and_ends_only(phone: str) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert masked[:3] == phone[:3] and masked[-3:] == phone[-3:]
    assert set(masked[3:-3]) <= {"*"}


@given(names, names)
def test_a_masked_name_keeps_only_initials(first: str, second: str) -> None:
    masked = mask_name(first)
    assert masked.split() == [word[0] + "***" for word in first.split()]
    same_initials = [w[0] for w in first.split()] == [w[0] for w in second.split()]
    assert (mask_name(second) == masked) == same_initials


@given(locals_, domains)
def test_a_masked_email_keeps_the_domain_and_one_letter(local: str, domain: str) -> None:
    masked = mask_email(f"{local}@{domain}")
    assert masked == f"{local[0]}***@{domain}"


def test_values_without_an_at_sign_are_fully_masked() -> None:
    assert mask_email("no-at-sign") == "***"
    assert mask_phone("12345") == "*****"


def test_the_personal_columns_of_users_are_marked() -> None:
    assert personal_columns(User) == {"full_name": "name", "email": "email", "phone": "phone"}


def test_personal_values_are_masked_unless_revealed() -> None:
    user = User(
        username="an", role=Role.OFFICER, full_name="Lê Thị Hoa", phone="0987654321", email=None
    )
    assert personal_values(user, reveal=False) == {
        "full_name": "L*** T*** H***",
        "phone": "098****321",
        "email": None,
    }
    assert personal_values(user, reveal=True)["phone"] == "0987654321"


def test_an_unknown_kind_of_personal_data_is_refused() -> None:
    with pytest.raises(ValueError, match="shoe size"):
        personal("shoe size")
