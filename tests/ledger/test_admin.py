"""The admin shows the ledger and edits nothing of it (I4)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from ledger.drafts import NewEvent
from ledger.models import EventType, UserActivity
from ledger.services.recording import record_activity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_event_page_shows_every_field_and_no_form_control(admin_client: Any) -> None:
    player = UserFactory.create(username="shown")
    earned = NewEvent(player.pk, EventType.COINS_EARNED, timezone.now(), {}, "tests.admin", 1)
    [recorded] = record_activity(events=[earned])
    page = admin_client.get(f"/admin/ledger/useractivity/{recorded.id}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    shown = re.findall(r'<div class="readonly">(.*?)</div>', body, re.DOTALL)
    concrete = [f for f in UserActivity._meta.concrete_fields if f.name != "id"]
    assert len(shown) == len(concrete)
    assert "shown" in shown[0]
    assert "Earned DeltaCoins" in shown
    assert not re.search(r"<(input|select|textarea)[^>]*name=\"(?!csrfmiddlewaretoken)", body)
