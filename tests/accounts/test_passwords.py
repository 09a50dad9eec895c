"""Argon2 password hashes: verify, reject, upgrade old parameters, hide unknown users."""

from __future__ import annotations

from argon2 import PasswordHasher

from dothi.accounts.passwords import HASHER, check_password, hash_password

WEAK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("đúng mật khẩu")
    assert stored.startswith("$argon2id$")
    assert check_password(stored, "đúng mật khẩu").ok
    assert not check_password(stored, "sai mật khẩu").ok


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("một mật khẩu") != hash_password("một mật khẩu")


def test_a_hash_with_old_parameters_is_replaced_on_success() -> None:
    old = hash_password("mật khẩu cũ", WEAK)
    check = check_password(old, "mật khẩu cũ")
    assert check.ok
    assert check.new_hash is not None and check.new_hash != old
    assert not HASHER.check_needs_rehash(check.new_hash)
    assert check_password(check.new_hash, "mật khẩu cũ").new_hash is None


def test_a_current_hash_is_not_replaced() -> None:
    assert check_password(hash_password("mật khẩu mới"), "mật khẩu mới").new_hash is None


def test_a_wrong_password_on_an_old_hash_gives_no_new_hash() -> None:
    check = check_password(hash_password("mật khẩu cũ", WEAK), "sai")
    assert not check.ok and check.new_hash is None


def test_unknown_users_and_garbage_hashes_never_pass() -> None:
    assert not check_password(None, "dothi: no such user").ok
    assert not check_password(None, "anything").ok
    assert not check_password("not-a-hash", "anything").ok
