"""The profile page's follow button (web/static/web/follow.js) in headless Chromium against a
real uvicorn server on PostgreSQL: shown to a signed-in viewer on someone else's profile only,
it toggles, and the counts follow."""

from __future__ import annotations

from typing import Any

import pytest

from esports.social.models import Follow
from tests.factories import UserFactory
from tests.web.conftest import Server, in_thread
from tests.web.test_profile_page import sign_in

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]


def open_follow_slot(page: Any, server: Server, username: str) -> None:
    page.goto(f"{server.url}/u/{username}/")
    page.wait_for_selector('#follow-slot[data-state="ready"]')


def counts(page: Any) -> tuple[str, str]:
    return (
        page.locator("#followers-count").inner_text(),
        page.locator("#following-count").inner_text(),
    )


def follows() -> list[tuple[str, str]]:
    return sorted(Follow.objects.values_list("follower__username", "followed__username"))


def make_players() -> None:
    for name in ("ann", "bob", "cid"):
        UserFactory.create(username=name)
    Follow.objects.create(
        follower=UserFactory.create(username="cid"), followed=UserFactory.create(username="bob")
    )


def test_a_signed_in_viewer_follows_and_unfollows_and_the_counts_follow(browser_page, server):
    in_thread(make_players)
    page = browser_page
    sign_in(page, server, "ann")
    open_follow_slot(page, server, "bob")
    button = page.locator("#follow-button")
    assert button.is_visible()
    assert (button.inner_text(), button.get_attribute("aria-pressed")) == ("Follow", "false")
    assert counts(page) == ("1 follower", "0 following")

    button.click()
    page.wait_for_selector('#follow-button[aria-pressed="true"]')
    assert button.inner_text() == "Following"
    assert counts(page) == ("2 followers", "0 following")
    assert in_thread(follows) == [("ann", "bob"), ("cid", "bob")]

    page.reload()  # the page reads it back from the API
    page.wait_for_selector('#follow-slot[data-state="ready"]')
    assert page.locator("#follow-button").get_attribute("aria-pressed") == "true"

    page.locator("#follow-button").click()
    page.wait_for_selector('#follow-button[aria-pressed="false"]')
    assert page.locator("#follow-button").inner_text() == "Follow"
    assert counts(page) == ("1 follower", "0 following")
    assert in_thread(follows) == [("cid", "bob")]


def test_no_button_on_your_own_profile_or_for_anonymous_visitors(browser_page, server):
    in_thread(make_players)
    page = browser_page
    open_follow_slot(page, server, "bob")  # anonymous: the counts, no button
    assert page.locator("#follow-slot").is_visible()
    assert counts(page) == ("1 follower", "0 following")
    assert not page.locator("#follow-button").is_visible()
    sign_in(page, server, "cid")
    open_follow_slot(page, server, "cid")
    assert counts(page) == ("0 followers", "1 following")
    assert not page.locator("#follow-button").is_visible()
