"""Sessions with CSRF, bearer tokens without it; tokens issued once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from graphql_api.models import ApiToken
from ledger.models import LedgerJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = {"query": "{ me { username } }"}
EXPORT_MINE = {"query": "mutation { exportMyData { id } }"}


def issue(username, *args):
    out = io.StringIO()
    call_command("create_api_token", username, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def post(client, body, **headers):
    return client.post(
        "/graphql/", data=json.dumps(body), content_type="application/json", headers=headers
    )


def test_token_is_printed_once_on_the_last_line_and_stored_hashed():
    user = UserFactory.create(username="mobile")
    token = issue("mobile", "--name", "iOS")
    row = ApiToken.objects.get(user=user)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.digest, row.prefix, row.name}
    assert token.startswith(row.prefix)
    assert len(token) >= 40


def test_bearer_token_authenticates_without_csrf_or_cookie(settings):
    UserFactory.create(username="mobile")
    token = issue("mobile")
    client = Client(enforce_csrf_checks=True)
    response = post(client, ME, Authorization=f"Bearer {token}")
    assert response.json() == {"data": {"me": {"username": "mobile"}}}
    mutation = post(client, EXPORT_MINE, Authorization=f"Bearer {token}")
    assert "errors" not in mutation.json()
    assert LedgerJob.objects.count() == 1


def test_a_revoked_or_unknown_token_is_refused_with_401():
    UserFactory.create(username="mobile")
    token = issue("mobile")
    call_command("create_api_token", "mobile", "--revoke", stdout=io.StringIO())
    client = Client()
    for value in (token, "made-up", ""):
        response = post(client, ME, Authorization=f"Bearer {value}")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("first", ["A", "-", "--"])
def test_revoke_by_prefix_keeps_the_other_tokens(first, monkeypatch):
    """A prefix may start with "-" (one token in 64, two in 4,096 with "--"): it is still the
    prefix, not an option."""
    from graphql_api.auth import tokens

    made = iter([first + "x" * 43, "keepKEEPkeep" + "k" * 31])
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda n: next(made))
    user = UserFactory.create(username="mobile")
    drop, keep = issue("mobile"), issue("mobile")
    assert drop.startswith(first)
    out = io.StringIO()
    call_command("create_api_token", "mobile", "--revoke", drop[:8], stdout=out)
    assert out.getvalue() == "Revoked 1 token(s) of mobile.\n"
    client = Client()
    assert post(client, ME, Authorization=f"Bearer {keep}").status_code == 200
    assert post(client, ME, Authorization=f"Bearer {drop}").status_code == 401
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_revoke_takes_one_prefix_and_comes_last():
    UserFactory.create(username="mobile")
    with pytest.raises(CommandError, match="one PREFIX and comes last"):
        call_command("create_api_token", "mobile", "--revoke", "-abc", "--name", "x")


def test_an_inactive_users_token_is_refused():
    user = UserFactory.create(username="gone")
    token = issue("gone")
    user.is_active = False
    user.save()
    assert post(Client(), ME, Authorization=f"Bearer {token}").status_code == 401


def test_unknown_username_is_a_command_error():
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())


def test_a_session_post_without_the_csrf_token_is_refused_and_does_nothing():
    user = UserFactory.create()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, EXPORT_MINE)
    assert response.status_code == 403
    assert LedgerJob.objects.count() == 0


def test_a_session_post_with_the_csrf_token_is_served():
    user = UserFactory.create(username="browser")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/login/")  # any page that renders a form sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = post(client, ME, **{"X-CSRFToken": csrf})
    assert response.json() == {"data": {"me": {"username": "browser"}}}


def test_anonymous_posts_need_no_csrf_and_act_as_no_one():
    client = Client(enforce_csrf_checks=True)
    assert post(client, ME).json() == {"data": {"me": None}}
