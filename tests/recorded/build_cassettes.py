"""Write the replay cassettes from the official example payloads of the OpenAPI spec.

Run by hand when the reference spec changes (the cassettes are committed; CI only replays):

    python tests/recorded/build_cassettes.py ../shared/reference/digitalocean-openapi-subset.yaml

Each cassette holds the exact requests the engine sends for one test and, as the answers, the
spec's documented examples. No request headers are stored, so no token can end up here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

API = "https://api.digitalocean.com"
HERE = Path(__file__).resolve().parent / "cassettes"

#: cassette name -> [(request path with query, response component, example name or None)]
CASSETTES: dict[str, list[tuple[str, str, str | None]]] = {
    "droplet_backups": [
        ("/v2/droplets/3164444/backups?page=1&per_page=200", "all_droplet_backups", None)
    ],
    "backup_policies": [
        ("/v2/droplets/backups/policies?page=1&per_page=200", "all_droplet_backup_policies", None)
    ],
    "backup_policy": [("/v2/droplets/444909706/backups/policy", "droplet_backup_policy", None)],
    "supported_policies": [
        ("/v2/droplets/backups/supported_policies", "droplets_supported_backup_policies", None)
    ],
    "database_backups": [
        ("/v2/databases/9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/backups", "database_backups", None)
    ],
    "droplets": [
        ("/v2/droplets?page=1&per_page=200&type=droplets", "all_droplets", "droplets_all"),
        ("/v2/droplets?page=1&per_page=200&type=gpus", "all_droplets", "gpu_droplets"),
    ],
    "clusters": [("/v2/databases", "database_clusters", None)],
}


def example(spec: dict[str, Any], component: str, name: str | None) -> Any:
    content = spec["components"]["responses"][component]["content"]["application/json"]
    if name is None:
        return content["example"]
    return spec["components"]["examples"][name]["value"]


def interaction(uri: str, body: Any) -> dict[str, Any]:
    return {
        "request": {"body": None, "headers": {}, "method": "GET", "uri": API + uri},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {
                "Content-Type": ["application/json; charset=utf-8"],
                "ratelimit-limit": ["5000"],
                "ratelimit-remaining": ["4816"],
                "ratelimit-reset": ["1444931833"],
            },
            "body": {"string": json.dumps(body)},
        },
    }


def main(spec_path: str) -> None:
    spec = yaml.safe_load(Path(spec_path).read_text())
    HERE.mkdir(exist_ok=True)
    for name, calls in CASSETTES.items():
        cassette = {
            "version": 1,
            "interactions": [interaction(u, example(spec, c, e)) for u, c, e in calls],
        }
        (HERE / f"{name}.yaml").write_text(yaml.safe_dump(cassette, sort_keys=False, width=1000))
        print("wrote", name)


if __name__ == "__main__":
    main(sys.argv[1])
