"""Vendor GraphiQL's browser assets from the npm registry, verified against their SRI hashes."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from strawberry.http.ides import get_graphql_ide_html

from graphql_api.graphiql import Asset, assets


class Command(BaseCommand):
    help = "Download GraphiQL's JS/CSS with `npm pack` into graphql_api/static/graphiql/."

    def handle(self, *args: Any, **options: Any) -> None:
        npm = shutil.which("npm")
        wanted = [
            a for a in assets(get_graphql_ide_html(graphql_ide="graphiql")) if not _present(a)
        ]
        if not wanted:
            self.stdout.write("GraphiQL assets already vendored.")
            return
        if npm is None:
            raise CommandError("npm is not installed: GraphiQL will load from the CDN instead.")
        packages = sorted({a.package for a in wanted})
        with tempfile.TemporaryDirectory() as tmp:
            for package in packages:
                result = subprocess.run(
                    [npm, "pack", package, "--silent", "--pack-destination", tmp],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                if result.returncode != 0:
                    raise CommandError(f"npm pack {package} failed: {result.stderr.strip()}")
                tarball = Path(tmp) / result.stdout.strip().splitlines()[-1]
                for asset in (a for a in wanted if a.package == package):
                    self._extract(tarball, asset)
        self.stdout.write(f"Vendored {len(wanted)} GraphiQL asset(s).")

    def _extract(self, tarball: Path, asset: Asset) -> None:
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(f"package/{asset.path}")
            if member is None:
                raise CommandError(f"{asset.package} has no {asset.path}")
            content = member.read()
        if not asset.matches(content):
            raise CommandError(f"{asset.url}: content does not match its integrity hash")
        asset.local_path.parent.mkdir(parents=True, exist_ok=True)
        asset.local_path.write_bytes(content)
        self.stdout.write(f"  {asset.package}/{asset.path}")


def _present(asset: Asset) -> bool:
    return asset.local_path.is_file() and asset.matches(asset.local_path.read_bytes())
