# ruff: noqa: RUF001  (the page's typography: en dashes and multiplication signs)
"""The profile page in headless Chromium against real uvicorn servers on PostgreSQL and Redis.

The demo history (esports.demo) is the fixture: what a person sees locally, with exact numbers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from esports.demo import load_demo_data
from esports.tournaments.models import Tournament
from ledger.models import EventType, UserActivity
from tests.factories import UserFactory
from tests.graphql_api.conftest import make_events
from tests.graphql_api.typed_feed import event_gid
from tests.support.processes import run_python
from tests.web.conftest import Server, in_thread

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "profile.png"
ECONOMY = {EventType.COINS_EARNED, EventType.COINS_SPENT}
RECONNECT_MS = 40_000
"""The page retries after 1, 2, 4, 8 ... s: a server back within seconds is reached by then."""


def user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def visible_ids(username: str, *, owner: bool) -> list[str]:
    """The feed as the API orders it (newest first), as global IDs; economy events only for
    the owner."""
    rows = UserActivity.objects.filter(user__username=username).order_by("-timestamp", "-id")
    if not owner:
        rows = rows.exclude(event_type__in=ECONOMY)
    return [event_gid(event) for event in rows]


UNLOCK = """
from django.contrib.auth import get_user_model
achievement = Achievement.objects.create(code={code!r}, name={name!r})
UserAchievement.objects.create(user=get_user_model().objects.get(username={username!r}),
                               achievement=achievement)
"""


def unlock(env: dict[str, str], username: str, name: str) -> None:
    """Another process saves a platform row (``manage.py shell -c``): the ledger records it on
    commit and announces it through Redis to the server's subscribers."""
    code = UNLOCK.format(code=name.lower().replace(" ", "-"), name=name, username=username)
    run_python(["manage.py", "shell", "-c", code], env=env)


def scroll_to_the_end(page: Any) -> None:
    """Scroll the feed's last item into view until the first event has been loaded."""
    for _ in range(10):
        if page.locator("#feed-status").inner_text().startswith("That's everything"):
            return
        count = page.locator("#feed").get_attribute("data-count")
        page.locator("#feed > li").last.scroll_into_view_if_needed()
        page.wait_for_function(
            "([count]) => document.querySelector('#feed').dataset.count !== count"
            " || document.querySelector('#feed-status').textContent.startsWith('That')",
            arg=[count],
        )
    raise AssertionError("the feed never reached its first event")


def feed_ids(page: Any) -> list[str]:
    return page.locator("#feed > li").evaluate_all("items => items.map(i => i.dataset.eventId)")


def stat(page: Any, name: str) -> str:
    return page.locator(f'[data-stat="{name}"]').inner_text()


def sign_in(page: Any, server: Server, username: str) -> None:
    """The viewer's session cookie, as after a login (the session row is committed)."""
    http = Client()
    http.force_login(user(username))
    page.context.add_cookies(
        [{"name": "sessionid", "value": http.cookies["sessionid"].value, "url": server.url}]
    )


def open_profile(page: Any, server: Server, username: str) -> None:
    page.goto(f"{server.url}/u/{username}/")
    page.wait_for_selector('#profile[data-state="ready"]')
    page.wait_for_selector('#chart[data-state="ready"]')
    loaded = '[data-state="ready"], #{0}[data-state="empty"]'
    page.wait_for_selector("#history" + loaded.format("history"), state="attached")
    page.wait_for_selector("#feed" + loaded.format("feed"), state="attached")


def rename_tournament(old: str, new: str) -> None:
    Tournament.objects.filter(name=old).update(name=new)


def test_a_visitor_sees_alice_s_stats_chart_history_and_feed_as_sentences(browser_page, server):
    in_thread(load_demo_data)
    in_thread(rename_tournament, "Spring Invitational", "Spring Open")
    page = browser_page
    open_profile(page, server, "alice")

    assert page.locator("h1").inner_text() == "Alice Ace"
    assert page.title() == "Alice Ace (@alice) · DeltaCrown"
    # win rate, tournaments won and placed, matches, earnings: exact, from the demo history
    assert stat(page, "winRate") == "100%"
    assert stat(page, "winRateDetail") == "3 won · 0 lost"
    assert stat(page, "tournamentsWon") == "2"
    assert stat(page, "tournamentsWonDetail") == "of 2 played"
    assert stat(page, "placed") == "2"
    assert stat(page, "placedDetail") == "1st ×2"
    assert stat(page, "matchesPlayed") == "3"
    assert stat(page, "matchesDetail") == "3–0 W–L"
    assert stat(page, "totalEarned") == "1,000"
    assert stat(page, "earningsDetail") == "DeltaCoins · net +900"

    # the chart's numbers (its accessible table), summed over months: the demo spans 30 days
    rows = page.locator("#chart-table tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].slice(1).map(c => Number(c.textContent)))"
    )
    assert [sum(column) for column in zip(*rows, strict=True)] == [3, 0, 2, 0]
    assert page.locator("svg.chart-svg rect.bar-won").count() >= 1
    assert page.locator("svg.chart-svg rect.bar-lost").count() == 0

    history = page.locator("#history > li")
    assert history.locator(".history-name").all_inner_texts() == [
        "Spring Invitational",
        "Winter Championship",
    ]
    assert history.locator(".history-meta").all_inner_texts() == [
        "1st place · 1–0 in 1 match",
        "1st place · 2–0 in 2 matches",
    ]

    # a visitor's feed: every non-economy event, newest first, each read as a sentence
    assert feed_ids(page) == visible_ids("alice", owner=False)
    sentences = page.locator("#feed .event-text").all_inner_texts()
    assert (
        sentences[0]
        == "Correction: “Lost to Bob Blitz in Winter Championship, round 2” no longer stands"
    )
    for expected in [
        "Won Winter Championship — 1st place",
        "Won Spring Invitational — 1st place",
        "Joined team Night Owls",
        "Created team Night Owls",
        "Beat Bob Blitz in Winter Championship, round 2",
        "Unlocked the achievement “Champion”",
        "Registered for Winter Championship",
    ]:
        assert expected in sentences
    assert not [s for s in sentences if "DeltaCoins" in s]  # economy: owner only
    # the opponent, as the match recorded them, links to their profile (they still exist)
    beat_bob = page.locator("#feed .event-text", has_text="Beat Bob Blitz in Winter Championship")
    assert beat_bob.locator("a").get_attribute("href") == "/u/bob/"
    first_time = page.locator("#feed > li time").first
    assert first_time.inner_text() == "just now"
    assert page.locator("#feed > li time").last.inner_text() == "4 weeks ago"
    # a tournament renamed since: the sentence keeps the name then, the detail says it now
    won_spring = page.locator("#feed > li", has_text="Won Spring Invitational")
    assert won_spring.locator(".event-context").inner_text() == (
        "with Night Owls · valorant · now “Spring Open”"
    )
    assert page.locator('#feed > li[data-event-type="TOURNAMENT_WON"].tone-gold').count() == 2
    assert page.locator("#private-notice").is_hidden()


def test_the_owner_sees_coins_and_a_screenshot_is_saved(browser_page, server, tmp_path):
    in_thread(load_demo_data)
    page = browser_page
    sign_in(page, server, "alice")
    open_profile(page, server, "alice")
    scroll_to_the_end(page)
    assert feed_ids(page) == visible_ids("alice", owner=True)

    sentences = page.locator("#feed .event-text").all_inner_texts()
    assert "Earned 1,000 DeltaCoins (prize)" in sentences
    assert "Spent 100 DeltaCoins (entry fee)" in sentences
    assert page.locator(".history-meta").all_inner_texts()[1] == (
        "1st place · 2–0 in 2 matches · +1,000 DeltaCoins"
    )
    page.wait_for_selector('#live-status[data-live="live"]')

    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "profile.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_scrolling_loads_older_events_by_cursor_without_duplicates(browser_page, server):
    grinder = in_thread(UserFactory.create, username="grinder")
    grind = {"achievement_id": 1, "achievement_code": "grind", "achievement_name": "Grind"}
    in_thread(make_events, grinder, 45, metadata=grind)
    page = browser_page
    open_profile(page, server, "grinder")
    expected = visible_ids("grinder", owner=True)
    assert len(expected) == 45

    assert page.locator("#feed").get_attribute("data-count") == "20"
    assert feed_ids(page) == expected[:20]
    for count in ("40", "45"):
        page.locator("#feed > li").last.scroll_into_view_if_needed()
        page.wait_for_selector(f'#feed[data-count="{count}"]')
    ids = feed_ids(page)
    assert len(ids) == len(set(ids)) == 45
    assert ids == expected
    assert (
        page.locator("#feed-status").inner_text() == "That's everything: the first event is above."
    )
    assert page.locator("#history-empty").is_visible()


def test_an_event_recorded_elsewhere_appears_live_and_after_a_reconnect(
    browser_page, server, server_env, wait_subscribed
):
    in_thread(load_demo_data)
    alice = user("alice")
    page = browser_page
    open_profile(page, server, "alice")
    page.wait_for_selector('#live-status[data-live="live"]')
    wait_subscribed(alice.pk)
    page.evaluate("window.__sameDocument = true")
    before = feed_ids(page)

    unlock(server_env, "alice", "Live Wire")

    page.wait_for_selector('#feed > li:first-child[data-event-type="ACHIEVEMENT_UNLOCKED"]')
    newest = page.locator("#feed > li").first
    assert newest.locator(".event-text").inner_text() == "Unlocked the achievement “Live Wire”"
    assert "event-new" in (newest.get_attribute("class") or "")
    assert feed_ids(page)[1:] == before
    assert feed_ids(page) == visible_ids("alice", owner=False)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert (
        "New: Unlocked the achievement “Live Wire”" in page.locator("#live-announcer").inner_text()
    )
    page.wait_for_selector('#player-extra:has-text("3 achievements")')  # statsUpdated, live

    # the server goes away; an event is recorded meanwhile; the page resumes from its cursor
    server.stop()
    page.wait_for_selector('#live-status[data-live="reconnecting"]')
    unlock(server_env, "alice", "Night Shift")
    server.start()
    page.wait_for_selector('#feed > li:first-child:has-text("Night Shift")', timeout=RECONNECT_MS)
    page.wait_for_selector('#live-status[data-live="live"]')
    ids = feed_ids(page)
    assert ids == visible_ids("alice", owner=False)
    assert len(ids) == len(set(ids)) == len(before) + 2
    assert page.evaluate("window.__sameDocument") is True


def test_a_private_profile_shows_stats_and_the_private_notice(browser_page, server):
    in_thread(load_demo_data)
    page = browser_page
    page.goto(f"{server.url}/u/frank/")
    page.wait_for_selector("#private-notice:visible")
    assert page.locator("#private-notice h2").inner_text() == "This player's activity is private"
    assert stat(page, "winRate") == "0%"
    assert stat(page, "matchesDetail") == "0–1 W–L"
    assert stat(page, "placed") == "1"
    assert stat(page, "placedDetail") == "2nd ×1"
    assert stat(page, "totalEarned") == "0"
    assert page.locator("#activity-area").is_hidden()
    assert page.locator("#feed > li").count() == 0
    assert page.locator("#history > li").count() == 0
    assert page.locator("#profile").get_attribute("data-activity") == "private"
    page.wait_for_selector('#chart[data-state="ready"]')  # monthly results are public, as stats


def test_an_unknown_player_shows_the_error_state(browser_page, server):
    page = browser_page
    page.goto(f"{server.url}/u/nobody/")
    page.wait_for_selector('#profile[data-state="error"]')
    assert page.locator("#profile").get_attribute("data-reason") == "not-found"
    assert page.locator("#error-state h2").inner_text() == "Player not found"
    assert page.locator("#error-message").inner_text() == "There is no player called “nobody”."
    assert page.locator("#stats-section").is_hidden()
    assert page.locator("#activity-area").is_hidden()
