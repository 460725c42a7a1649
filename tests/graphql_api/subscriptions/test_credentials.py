"""An open connection loses what its credential loses: revoked tokens, logouts, deactivated
users and changed passwords close it 4401; the user's other connections stay open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from graphql_api.auth.models import ApiToken
from graphql_api.auth.tokens import issue_api_token, revoke_api_tokens, token_digest
from graphql_api.subscriptions.credentials import CREDENTIALS_EXPIRED, Credential
from graphql_api.subscriptions.groups import user_group
from tests.factories import UserFactory
from tests.graphql_api.conftest import make_events, signed_in_client
from tests.graphql_api.subscriptions.conftest import (
    FEED,
    closed_with,
    connected,
    follow,
    in_db,
    joined,
    quiet,
    receive_edges,
    subscribe,
)

pytestmark = pytest.mark.django_db(transaction=True)

NEVER = 3600.0
"""A re-check interval no test waits out: only an announcement can close the connection."""


@pytest.fixture
def announcements_only(settings: Any) -> None:
    settings.GRAPHQL_WS_REAUTH_SECONDS = NEVER


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def user_with_token(username: str) -> tuple[Any, str]:
    """A new user and a bearer token of theirs."""
    user = await in_db(UserFactory.create)(username=username)
    _, token = await in_db(issue_api_token)(user=user)
    return user, token


def cookie_of(client: Client) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def deactivate(user: Any) -> None:
    user.is_active = False
    user.save()


def change_password(user: Any) -> None:
    user.set_password("a whole new secret")
    user.save()


# --- announcements close at once ----------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_revoking_the_token_closes_its_open_connection():
    user, token = await user_with_token("revoked-live")
    async with connected(bearer(token)) as ws:
        await follow(ws, FEED, user_id=user.pk)
        await in_db(revoke_api_tokens)(user=user)
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_the_users_other_token_keeps_its_connection_and_its_feed():
    user = await in_db(UserFactory.create)(username="two-phones")
    old, old_token = await in_db(issue_api_token)(user=user, name="old phone")
    _, new_token = await in_db(issue_api_token)(user=user, name="new phone")
    async with connected(bearer(old_token)) as gone, connected(bearer(new_token)) as kept:
        await follow(gone, FEED, user_id=user.pk)
        op = await subscribe(kept, FEED)
        await joined(user_group(user.pk), members=2)
        await in_db(revoke_api_tokens)(user=user, prefix=old.prefix)
        assert await closed_with(gone) == (4401, CREDENTIALS_EXPIRED)
        await in_db(make_events)(user, 1, first_source_id=5)
        [edge] = await receive_edges(kept, op, 1)
    assert edge["node"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_the_admins_revoke_action_closes_the_connection():
    user = await in_db(UserFactory.create)(username="admin-revoked")
    staff = await in_db(UserFactory.create)(username="ops", is_staff=True, is_superuser=True)
    _, token = await in_db(issue_api_token)(user=user)

    def revoke_in_admin() -> None:
        ids = list(ApiToken.objects.filter(user=user).values_list("pk", flat=True))
        response = signed_in_client(staff).post(
            reverse("admin:graphql_api_apitoken_changelist"),
            {"action": "revoke", "_selected_action": ids},
        )
        assert response.status_code == 302

    async with connected(bearer(token)) as ws:
        await in_db(revoke_in_admin)()
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_logging_out_closes_that_sessions_connection():
    user = await in_db(UserFactory.create)(username="logs-out")
    client = await in_db(signed_in_client)(user)
    async with connected(headers=cookie_of(client)) as ws:
        await follow(ws, FEED, user_id=user.pk)
        await in_db(client.logout)()
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
@pytest.mark.parametrize("token_kind", ["bearer", "session"])
async def test_deactivating_the_user_closes_every_connection(token_kind):
    user = await in_db(UserFactory.create)(username=f"banned-{token_kind}")
    if token_kind == "bearer":
        _, token = await in_db(issue_api_token)(user=user)
        opened = connected(bearer(token))
    else:
        opened = connected(headers=cookie_of(await in_db(signed_in_client)(user)))
    async with opened as ws:
        await in_db(deactivate)(user)
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_a_password_change_closes_sessions_but_not_tokens():
    user, token = await user_with_token("new-password")
    client = await in_db(signed_in_client)(user)
    async with connected(headers=cookie_of(client)) as browser, connected(bearer(token)) as app:
        await in_db(change_password)(user)
        assert await closed_with(browser) == (4401, CREDENTIALS_EXPIRED)
        assert await quiet(app)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_signing_in_on_another_device_keeps_this_session_open():
    user = await in_db(UserFactory.create)(username="second-login")
    client = await in_db(signed_in_client)(user)
    async with connected(headers=cookie_of(client)) as ws:
        op = await follow(ws, FEED, user_id=user.pk)
        await in_db(signed_in_client)(user)  # a second session; saves last_login
        await in_db(rename)(user)  # a change that makes every connection re-check
        await in_db(make_events)(user, 1, first_source_id=9)
        [edge] = await receive_edges(ws, op, 1)
    assert edge["node"]["eventType"] == "ACHIEVEMENT_UNLOCKED"


def rename(user: Any) -> None:
    """A save that changes nothing a credential depends on."""
    user.first_name = "Renamed"
    user.save()


# --- the periodic re-check catches what announces nothing ---------------------------------------


def revoke_behind_the_services_back(user: Any) -> None:
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())


@pytest.mark.asyncio
async def test_a_token_revoked_in_sql_closes_at_the_next_recheck(settings):
    settings.GRAPHQL_WS_REAUTH_SECONDS = 0.2
    user, token = await user_with_token("sql-revoked")
    async with connected(bearer(token)) as ws:
        assert await quiet(ws, 0.5)  # re-checked a few times, still valid
        await in_db(revoke_behind_the_services_back)(user)
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)


@pytest.mark.asyncio
@pytest.mark.usefixtures("announcements_only")
async def test_without_an_announcement_nothing_closes_before_the_recheck():
    """The announcements above are what closed those connections, not a timer."""
    user, token = await user_with_token("sql-revoked-slow")
    async with connected(bearer(token)) as ws:
        await in_db(revoke_behind_the_services_back)(user)
        assert await quiet(ws, 0.5)


# --- Credential.is_valid --------------------------------------------------------------------------


def test_a_token_credential_is_valid_while_its_token_and_user_are_active():
    user = UserFactory.create()
    _token_row, token = issue_api_token(user=user)
    credential = Credential(user_id=user.pk, token_digest=token_digest(token))
    assert credential.is_valid()
    assert not Credential(user_id=user.pk + 1, token_digest=token_digest(token)).is_valid()
    revoke_api_tokens(user=user)
    assert not credential.is_valid()


def test_a_token_credential_of_an_inactive_user_is_invalid():
    user = UserFactory.create()
    _, token = issue_api_token(user=user)
    deactivate(user)
    assert not Credential(user_id=user.pk, token_digest=token_digest(token)).is_valid()


def test_a_session_credential_follows_the_stored_session():
    user = UserFactory.create()
    client = signed_in_client(user)
    key = client.cookies["sessionid"].value
    assert Credential(user_id=user.pk, session_key=key).is_valid()
    assert not Credential(user_id=user.pk + 1, session_key=key).is_valid()
    SessionStore(key).delete()
    assert not Credential(user_id=user.pk, session_key=key).is_valid()


def test_an_expired_session_is_invalid():
    user = UserFactory.create()
    key = signed_in_client(user).cookies["sessionid"].value
    store = SessionStore(key)
    store.load()
    store.set_expiry(-1)
    store.save()
    assert not Credential(user_id=user.pk, session_key=key).is_valid()


def test_a_credential_with_neither_token_nor_session_is_invalid():
    assert not Credential(user_id=1).is_valid()


@pytest.mark.asyncio
async def test_a_failed_recheck_keeps_the_connection_and_checks_again(settings, monkeypatch):
    """A database blip during a re-check is logged, not a disconnect; the next check decides."""
    settings.GRAPHQL_WS_REAUTH_SECONDS = 0.2
    _, token = await user_with_token("blip")
    answers: Iterator[bool | Exception] = iter([RuntimeError("database restarting"), False])

    def is_valid(self: Credential) -> bool:
        answer = next(answers, False)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(Credential, "is_valid", is_valid)
    async with connected(bearer(token)) as ws:
        assert await closed_with(ws) == (4401, CREDENTIALS_EXPIRED)
    assert next(answers, "used up") == "used up"  # both answers were asked for
