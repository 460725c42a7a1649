"""GraphiQL that works offline: strawberry's page, its CDN assets served from our static files.

``python manage.py vendor_graphiql`` fetches the exact files strawberry's page names (through
``npm pack``, which reaches the npm registry where a CDN may be unreachable) and checks each
against the page's own Subresource Integrity hash. The page then points at ``/static/graphiql/``
for every file that was vendored and keeps the CDN for any that was not.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from django.templatetags.static import static

CDN = "https://unpkg.com/"
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "graphiql"

_ASSET = re.compile(r'(?:src|href)="https://unpkg\.com/([^"]+)"\s+integrity="([^"]+)"')
_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)

FIRST_QUERY = """# DeltaCrown Activity Ledger. Run with Ctrl-Enter.
# Sign in at /admin/ first to see your own feed (or pass userId for a public one).
query FirstLook {
  me { id username profile { displayName activityPublic } }
  stats { matchesPlayed matchesWon winRate tournamentsWon totalEarned lastActivityAt }
  activityFeed(first: 10) {
    edges { cursor node { __typename id timestamp
      ... on TournamentEvent { tournamentName }
      ... on MatchEvent { round opponentName match { state tournament { name } } }
      ... on CoinsEvent { amount reason }
    } }
    pageInfo { hasNextPage endCursor }
  }
  leaderboard(by: TOURNAMENTS_WON, first: 5) {
    edges { node { rank value user { username } } }
  }
}
"""


@dataclass(frozen=True, slots=True)
class Asset:
    package: str
    """``name@version``, scoped names included (``@graphiql/plugin-explorer@1.0.2``)."""
    path: str
    integrity: str

    @property
    def url(self) -> str:
        return f"{CDN}{self.package}/{self.path}"

    @property
    def local_path(self) -> Path:
        return VENDOR_DIR / self.package / self.path

    def matches(self, content: bytes) -> bool:
        algorithm, _, expected = self.integrity.partition("-")
        digest = hashlib.new(algorithm, content).digest()
        return base64.b64encode(digest).decode() == expected


def assets(html: str) -> list[Asset]:
    """The CDN files a GraphiQL page loads, with their integrity hashes."""
    found = []
    for spec, integrity in _ASSET.findall(html):
        scoped = spec.startswith("@")
        parts = spec.split("/")
        cut = 2 if scoped else 1
        found.append(Asset("/".join(parts[:cut]), "/".join(parts[cut:]), integrity))
    return found


def offline_html(html: str) -> str:
    """Point vendored assets at our static files and open on our first query."""
    for asset in assets(html):
        if asset.local_path.is_file():
            local = static(f"graphiql/{asset.package}/{asset.path}")
            html = html.replace(asset.url, local)
    example = "const EXAMPLE_QUERY = `" + FIRST_QUERY.replace("`", "\\`") + "`;"
    return _EXAMPLE.sub(lambda _match: example, html, count=1)
