# ruff: noqa: RUF001  (the page's typography: en dashes)
"""The profile page's form and games (issue 17) in headless Chromium against real servers on
PostgreSQL: streaks, the recent-form row and a card per game, with exact numbers."""

from __future__ import annotations

from typing import Any

import pytest

from esports.profiles.models import UserProfile
from tests.esports.insights_history import rivals
from tests.web.conftest import Server, in_thread
from tests.web.test_profile_page import open_profile, sign_in

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]


def open_insights(page: Any, server: Server, username: str, *, private: bool = False) -> None:
    if private:  # the form and cards alone
        page.goto(f"{server.url}/u/{username}/")
        page.wait_for_selector('#profile[data-state="ready"]')
    else:
        open_profile(page, server, username)
    page.wait_for_selector('#insights-section[data-state="ready"]')


def cards(page: Any) -> dict[str, dict[str, str]]:
    return page.locator("#game-cards > li").evaluate_all(
        """cards => Object.fromEntries(cards.map(card => [card.dataset.game,
             Object.fromEntries([...card.querySelectorAll('dd')].map(
               dd => [dd.dataset.gameStat, dd.textContent]))]))"""
    )


def test_streaks_form_and_game_cards_show_the_corrected_history(browser_page, server):
    in_thread(rivals)
    page = browser_page
    open_insights(page, server, "ann")

    streak = page.locator("[data-insight]")
    assert streak.all_inner_texts() == ["4", "4"]  # m2 corrected; the forfeit breaks nothing
    form = page.locator("#form-row > li")
    assert form.all_inner_texts() == ["W", "F", "W", "W", "W"]  # newest first
    assert form.first.get_attribute("title") == "Won in Valorant Cup, round 5 (valorant)"
    assert form.nth(1).get_attribute("data-outcome") == "FORFEIT"
    assert cards(page) == {
        "cs2": {
            "record": "1–0",
            "matches": "2",
            "winRate": "50%",
            "tournaments": "0 of 1",
            "streak": "1 · best 1",
        },
        "valorant": {
            "record": "3–0",
            "matches": "3",
            "winRate": "100%",
            "tournaments": "0 of 1",
            "streak": "3 · best 3",
        },
    }

    open_insights(page, server, "bob")
    assert page.locator("[data-insight]").all_inner_texts() == ["0", "0"]
    assert page.locator("#form-row > li").all_inner_texts() == ["L", "F", "L", "L", "L"]
    assert cards(page)["valorant"]["record"] == "0–3"


def test_a_private_players_form_is_theirs_and_their_cards_public(browser_page, server):
    in_thread(rivals)
    in_thread(
        lambda: UserProfile.objects.filter(user__username="bob").update(activity_public=False)
    )
    page = browser_page
    open_insights(page, server, "bob", private=True)
    assert page.locator("#form-row").get_attribute("data-state") == "private"
    assert page.locator("#form-empty").inner_text() == "Recent results are private."
    assert page.locator("#form-row > li").count() == 0
    assert page.locator("[data-insight]").all_inner_texts() == ["0", "0"]  # stats are public
    assert sorted(cards(page)) == ["cs2", "valorant"]

    sign_in(page, server, "bob")
    open_insights(page, server, "bob", private=True)
    assert page.locator("#form-row > li").all_inner_texts() == ["L", "F", "L", "L", "L"]
