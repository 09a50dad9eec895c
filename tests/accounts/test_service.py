"""User accounts: scope, masking and its audit, changes, set-up helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dothi.accounts import service
from dothi.accounts.identity import authenticate, load_principal
from dothi.accounts.models import AuditEntry, User, UserScope
from dothi.accounts.passwords import check_password
from dothi.accounts.permissions import SYSTEM, Role
from dothi.accounts.schemas import AuditEntryOut, UserCreate, UserQuery, UserUpdate
from dothi.core.clock import FixedClock
from dothi.db.engine import Database
from dothi.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.accounts.helpers import PASSWORD, PHONE, Town, add_user, principal


def _entries(db: Database, action: str) -> list[AuditEntryOut]:
    with db.read() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return [AuditEntryOut.model_validate(entry) for entry in session.scalars(query)]


def _new_officer(town: Town, ward: str, **fields: object) -> UserCreate:
    return UserCreate.model_validate(
        {
            "username": "Officer.New",
            "password": "một mật khẩu dài",
            "role": "officer",
            "org_unit_id": town.committees[ward],
            "scope_unit_ids": [town.wards[ward]],
            **fields,
        }
    )


def test_an_admin_creates_a_user(demo_db: Database, town: Town, clock: FixedClock) -> None:
    admin = principal(demo_db, "admin")
    data = _new_officer(town, "Phường 9", full_name="Phạm Minh Châu", phone="091 234 5678")
    with demo_db.write() as session:
        out = service.create_user(session, admin, data, clock)
    assert out.username == "officer.new" and out.role is Role.OFFICER
    assert out.masked and out.full_name == "P*** M*** C***" and out.phone == "091****678"
    assert out.scope_unit_ids == [town.wards["Phường 9"]]
    with demo_db.read() as session:
        user = session.get(User, out.id)
        assert user is not None and user.phone == "0912345678"
        assert check_password(user.password_hash, "một mật khẩu dài").ok
    [entry] = _entries(demo_db, "user.create")
    assert entry.actor == "admin" and entry.object_id == str(out.id)
    assert entry.admin_unit_id == town.wards["Phường 9"]
    assert "Phạm" not in str(entry.detail) and PHONE not in str(entry.detail)


def test_usernames_are_unique(demo_db: Database, town: Town, clock: FixedClock) -> None:
    data = _new_officer(town, "Phường 2", username="OPERATOR")
    with demo_db.write() as session, pytest.raises(Conflict):
        service.create_user(session, SYSTEM, data, clock)


def test_scopes_must_be_real_units(demo_db: Database, town: Town, clock: FixedClock) -> None:
    data = _new_officer(town, "Phường 2", scope_unit_ids=[uuid.uuid4()])
    with demo_db.write() as session, pytest.raises(InvalidInput):
        service.create_user(session, SYSTEM, data, clock)


def test_a_leader_manages_only_their_ward_and_lesser_roles(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    leader = principal(demo_db, "leader.p2")
    with demo_db.write() as session:
        assert service.create_user(session, leader, _new_officer(town, "Phường 2"), clock)
    with demo_db.write() as session, pytest.raises(Forbidden):
        service.create_user(session, leader, _new_officer(town, "Phường 9", username="x9"), clock)
    admin_data = _new_officer(town, "Phường 2", username="boss", role="admin")
    with demo_db.write() as session, pytest.raises(Forbidden):
        service.create_user(session, leader, admin_data, clock)
    with demo_db.write() as session, pytest.raises(Forbidden):
        service.update_user(session, leader, town.users["admin"], UserUpdate(active=False), clock)


def test_an_officer_of_ward_2_cannot_read_a_user_of_ward_9(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    officer = principal(demo_db, "officer.p2")
    with demo_db.write() as session:
        colleague, _ = service.get_user(session, officer, town.users["leader.p2"])
        assert colleague.username == "leader.p2"
        with pytest.raises(Forbidden):
            service.get_user(session, officer, town.users["officer.p9"])


def test_personal_fields_are_masked_without_the_right_and_reads_are_not_audited(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    operator = principal(demo_db, "operator")
    with demo_db.read() as session:
        out, disclosure = service.get_user(session, operator, town.users["officer.p9"])
    assert disclosure is None
    assert out.masked and out.full_name == "N*** V*** A***" and out.phone == "091****678"
    assert out.email == "o***@phunhuan.example.vn"
    assert _entries(demo_db, "user.read_personal") == []


def test_each_unmasked_read_is_audited(demo_db: Database, town: Town, clock: FixedClock) -> None:
    admin = principal(demo_db, "admin")
    for _ in range(2):
        with demo_db.write() as session:
            out, disclosure = service.get_user(session, admin, town.users["officer.p9"])
            assert disclosure is not None
            disclosure.record(session, clock)
        assert not out.masked and out.phone == PHONE and out.full_name == "Nguyễn Văn An"
    entries = _entries(demo_db, "user.read_personal")
    assert len(entries) == 2
    assert {e.object_id for e in entries} == {str(town.users["officer.p9"])}
    assert entries[0].admin_unit_id == town.wards["Phường 9"]
    assert entries[0].detail == {"fields": ["email", "full_name", "phone"]}


def test_users_read_themselves_unmasked(demo_db: Database, town: Town, clock: FixedClock) -> None:
    officer = principal(demo_db, "officer.p9")
    with demo_db.read() as session:
        out, disclosure = service.get_user(session, officer, town.users["officer.p9"])
    assert not out.masked and out.phone == PHONE and disclosure is None


def test_a_district_operator_lists_the_users_of_all_15_wards(demo_db: Database, town: Town) -> None:
    operator = principal(demo_db, "operator")
    with demo_db.read() as session:
        page = service.list_users(session, operator, UserQuery(limit=500))
        officers = service.list_users(session, operator, UserQuery(role=Role.OFFICER))
    assert "admin" not in {user.username for user in page.items}  # placed nowhere: root only
    assert page.total == len(page.items) == 17
    assert all(user.masked for user in page.items)
    assert {user.org_unit_id for user in officers.items} == set(town.committees.values())
    assert officers.total == 15


def test_a_ward_officer_lists_only_their_ward(demo_db: Database, town: Town) -> None:
    officer = principal(demo_db, "officer.p2")
    with demo_db.read() as session:
        page = service.list_users(session, officer, UserQuery())
    assert {user.username for user in page.items} == {"leader.p2", "officer.p2"}


def test_the_user_list_pages_and_filters(demo_db: Database, town: Town) -> None:
    admin = principal(demo_db, "admin")
    with demo_db.read() as session:
        first = service.list_users(session, admin, UserQuery(limit=5))
        second = service.list_users(session, admin, UserQuery(limit=5, offset=5))
        ward_9 = service.list_users(session, admin, UserQuery(ward=town.wards["Phường 9"]))
        district = service.list_users(session, admin, UserQuery(ward=town.district))
        leaders = service.list_users(session, admin, UserQuery(role=Role.LEADER))
    assert first.total == second.total == 18
    assert [u.username for u in first.items] == sorted(u.username for u in first.items)
    assert not {u.id for u in first.items} & {u.id for u in second.items}
    assert [u.username for u in ward_9.items] == ["officer.p9"]
    assert district.total == 17
    assert [u.username for u in leaders.items] == ["leader.p2"]


def test_deactivation_ends_sessions_and_is_audited(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    user_id = town.users["officer.p9"]
    with demo_db.write() as session:
        out = service.update_user(session, admin, user_id, UserUpdate(active=False), clock)
    assert not out.active
    with demo_db.write() as session:
        assert load_principal(session, user_id, 1) is None
        assert load_principal(session, user_id, 2) is None  # inactive, whatever the version
        assert authenticate(session, "officer.p9", PASSWORD, clock) is None
    [entry] = _entries(demo_db, "user.deactivate")
    assert entry.detail == {"changed": ["active"]}


def test_an_update_changes_only_the_fields_given(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    user_id = town.users["officer.p9"]
    change = UserUpdate.model_validate(
        {
            "phone": None,
            "scope_unit_ids": [town.district],
            "org_unit_id": town.committees["Phường 2"],
        }
    )
    with demo_db.write() as session:
        service.update_user(session, admin, user_id, change, clock)
    with demo_db.read() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert user.phone is None and user.full_name == "Nguyễn Văn An"
        scopes = session.scalars(
            select(UserScope.admin_unit_id).where(UserScope.user_id == user_id)
        )
        assert list(scopes) == [town.district]
        assert load_principal(session, user_id, 1) is not None  # still logged in
    old, new = _entries(demo_db, "user.update")  # a move: seen in both wards
    assert (old.admin_unit_id, new.admin_unit_id) == (
        town.wards["Phường 9"],
        town.wards["Phường 2"],
    )
    assert new.detail == {"changed": ["org_unit_id", "phone", "scope_unit_ids"]}


def test_a_new_password_ends_old_sessions(demo_db: Database, town: Town, clock: FixedClock) -> None:
    admin = principal(demo_db, "admin")
    user_id = town.users["operator"]
    with demo_db.write() as session:
        service.set_password(session, admin, user_id, "mật khẩu mới tinh", clock)
    with demo_db.write() as session:
        assert load_principal(session, user_id, 1) is None
        assert load_principal(session, user_id, 2) is not None
        assert authenticate(session, "operator", PASSWORD, clock) is None
        assert authenticate(session, "operator", "mật khẩu mới tinh", clock) is not None
    assert len(_entries(demo_db, "user.set_password")) == 1


def test_ensure_admin_creates_one_admin_over_every_root(
    demo_db: Database, clock: FixedClock
) -> None:
    with demo_db.write() as session:
        password = service.ensure_admin(session, clock)
        again = service.ensure_admin(session, clock)
    assert password is not None and len(password) >= 16
    assert again is None
    with demo_db.write() as session:
        user = authenticate(session, "admin", password, clock)
        assert user is not None and user.role is Role.ADMIN
        admin = load_principal(session, user.id, user.session_version)
    assert admin is not None and admin.sees(None) and len(admin.scope_paths) == 1


def test_reset_password_prints_a_working_password(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    with demo_db.write() as session:
        password = service.reset_password(session, " Officer.P2 ", clock)
        assert authenticate(session, "officer.p2", password, clock) is not None
        with pytest.raises(NotFound):
            service.reset_password(session, "nobody", clock)
    [entry] = _entries(demo_db, "user.reset_password")
    assert entry.actor == "system" and entry.admin_unit_id == town.wards["Phường 2"]


def test_the_cli_adds_users_by_official_codes(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    with demo_db.write() as session:
        password = service.add_user_cli(
            session, "can.bo", "officer", ["27061"], "UBND-2", "Đỗ Thị Lan", clock
        )
        user = authenticate(session, "can.bo", password, clock)
        assert user is not None and user.org_unit_id == town.committees["Phường 2"]
        scope = session.scalars(select(UserScope.admin_unit_id).where(UserScope.user_id == user.id))
        assert list(scope) == [town.wards["Phường 2"]]
        with pytest.raises(InvalidInput, match="99999"):
            service.add_user_cli(session, "khac", "officer", ["99999"], None, None, clock)
        with pytest.raises(InvalidInput, match="NOPE"):
            service.add_user_cli(session, "khac", "officer", [], "NOPE", None, clock)


def _district_operator_in_ward_2(db: Database, town: Town) -> uuid.UUID:
    """An operator working for the Phường 2 committee whose scope is the whole district."""
    with db.write() as session:
        user = add_user(
            session, "op.p2", Role.OPERATOR, town.committees["Phường 2"], [town.district]
        )
        return user.id


def test_a_ward_leader_cannot_manage_a_user_who_sees_more_than_the_ward(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    target = _district_operator_in_ward_2(demo_db, town)
    leader = principal(demo_db, "leader.p2")
    with demo_db.read() as session:  # reading is fine: they work in the leader's ward
        assert service.get_user(session, leader, target)[0].username == "op.p2"
    changes: list[Callable[[Session], object]] = [
        lambda session: service.set_password(session, leader, target, "chiếm tài khoản", clock),
        lambda session: service.update_user(
            session, leader, target, UserUpdate(full_name="X"), clock
        ),
        lambda session: service.update_user(
            session, leader, target, UserUpdate(active=False), clock
        ),
        lambda session: service.update_user(
            session, leader, target, UserUpdate(scope_unit_ids=[town.wards["Phường 2"]]), clock
        ),
    ]
    for change in changes:
        with demo_db.write() as session, pytest.raises(Forbidden, match="sees more"):
            change(session)
    with demo_db.write() as session:  # a user inside the leader's ward stays manageable
        service.set_password(session, leader, town.users["officer.p2"], "mật khẩu mới tinh", clock)


def test_deactivating_twice_records_once_and_reactivation_is_named(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    user_id = town.users["officer.p9"]
    for active in (False, False, True):
        with demo_db.write() as session:
            service.update_user(session, admin, user_id, UserUpdate(active=active), clock)
    assert len(_entries(demo_db, "user.deactivate")) == 1
    assert len(_entries(demo_db, "user.update")) == 0
    [entry] = _entries(demo_db, "user.reactivate")
    assert entry.detail == {"changed": ["active"]}


def test_a_user_who_moves_is_audited_in_both_wards(
    demo_db: Database, town: Town, clock: FixedClock
) -> None:
    admin = principal(demo_db, "admin")
    move = UserUpdate(org_unit_id=town.committees["Phường 2"])
    with demo_db.write() as session:
        service.update_user(session, admin, town.users["officer.p9"], move, clock)
    entries = _entries(demo_db, "user.update")
    assert {entry.admin_unit_id for entry in entries} == {
        town.wards["Phường 9"],
        town.wards["Phường 2"],
    }
    assert all(entry.detail == {"changed": ["org_unit_id"]} for entry in entries)
