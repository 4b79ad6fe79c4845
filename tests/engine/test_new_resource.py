"""A new resource needs only a spec file: no Python is added to the engine for it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import sqlprovider

WIDGETS = {7: [{"serial": f"w7-{n}", "weight": {"kg": n / 2}, "ok": n % 2 == 0} for n in range(5)]}
SPEC = """
service: shop
description: A tiny shop.
resources:
  parts:
    description: Parts of one widget.
    parameters:
      widget_id: {in: path, type: integer, minimum: 1, example: 7, description: The widget.}
    methods:
      list: {path: "/v1/widgets/{widget_id}/parts", records: data.parts, paginated: true, not_found: empty}
    columns:
      widget_id: {type: integer, description: The widget (echoed).}
      serial: {type: text, description: Serial number.}
      weight_kg: {type: real, path: weight.kg, description: Weight.}
      ok: {type: boolean, description: Passed inspection.}
    examples:
      - {description: Parts of widget 7., sql: SELECT serial FROM acme.shop.parts WHERE widget_id = 7}
"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if self.headers.get("Authorization") != "Bearer t0k" or len(parts) != 4:
            self.send_error(401)
            return
        items = WIDGETS.get(int(parts[2]))
        if items is None:
            self.send_response(404)
            self.end_headers()
            return
        page, per_page = int(query["page"][0]), int(query["per_page"][0])
        chunk = items[(page - 1) * per_page : page * per_page]
        body = json.dumps({"data": {"parts": chunk}, "meta": {"total": len(items)}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "provider.yaml").write_text(
        "provider: acme\ndescription: Test.\napi_url: http://127.0.0.1:1\ntoken_env: [ACME_TOKEN]\n"
        "pagination: {page_param: page, per_page_param: per_page, max_per_page: 2}\n"
    )
    (folder / "shop.yaml").write_text(SPEC)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_spec_file_alone_adds_a_queryable_table(shop: tuple[Path, str]) -> None:
    spec_dir, url = shop
    with sqlprovider.connect(token="t0k", api_url=url, spec_dir=spec_dir) as con:
        cur = con.execute(
            "SELECT widget_id, serial, weight_kg, ok FROM acme.shop.parts WHERE widget_id = '7'"
        )
        rows = cur.fetchall()
        assert rows == [(7, f"w7-{n}", n / 2, int(n % 2 == 0)) for n in range(5)]
        # max_per_page 2 from the provider file: 2 + 2 + 1, and page 1 read once more.
        assert cur.stats["pages"] == 4
        assert con.execute(
            "SELECT count(*) FROM acme.shop.parts WHERE widget_id = 8"
        ).fetchall() == [(0,)]
        with pytest.raises(
            sqlprovider.MissingKeyColumnError, match="acme.shop.parts needs widget_id"
        ):
            con.execute("SELECT * FROM acme.shop.parts")
