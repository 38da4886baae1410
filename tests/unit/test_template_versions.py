"""Every template change is a new template version: archived versions never change, and the current
version is above every archived one (docs/forms.md, "Every template change is a new version")."""

from __future__ import annotations

import hashlib
import json

import pytest

from fieldkit.domain.forms import load_template, template_ids
from fieldkit.resource_files import resource_path

# Released template files, by name. Release 1 shipped every form at version 1; when a version is
# released, add its files here: from then on a change to them needs a new version.
RELEASED = {
    "case@1.json": "435e61669a1b05451d59e825d1541adb947d67efbb51c75e577f7080c215a56f",
    "facility@1.json": "dc0cfb5d83272280c618e30e7b5f419de56eeae9192b8d218427a833416ae55b",
    "interview@1.json": "9fa8f45cdd662761d9e1d01405fa16ccc3796d9b31c6ed774446cb3f62ecdde9",
    "person@1.json": "f3e1450beb40536816c2fad6276d4987d9b609c18392679db2401b6b02d44f5b",
    "recommendation@1.json": "ceba42b53e5ce7750614f6422326aecc1f9db11b848e8db73367623a7be7b5da",
    "visit@1.json": "ee40d64fb00df666d8dd1d10d884ac5c19d978f8bd4e3c8c643b30cb6bb463e3",
}


def _folder_files() -> dict[str, bytes]:
    folder = resource_path("forms")
    return {e.name: e.read_bytes() for e in folder.iterdir() if e.name.endswith(".json")}


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_released_versions_are_kept_unchanged(name: str) -> None:
    files = _folder_files()
    form_id, version = name[: -len(".json")].split("@")
    current = json.loads(files[f"{form_id}.json"])
    if name in files:
        digest = hashlib.sha256(files[name]).hexdigest()
        assert digest == RELEASED[name], f"{name} changed: archived versions are frozen"
    else:
        # not archived yet: then the current file must still be exactly that version
        assert current["version"] == int(version)
        digest = hashlib.sha256(files[f"{form_id}.json"]).hexdigest()
        assert digest == RELEASED[name], (
            f"forms/{form_id}.json changed without a new version: copy the released file to "
            f"forms/{name} and raise 'version'"
        )


def test_current_version_is_above_every_archived_one() -> None:
    files = _folder_files()
    for form_id in template_ids():
        current = load_template(form_id).version
        archived = [
            int(name[: -len(".json")].split("@")[1])
            for name in files
            if name.startswith(f"{form_id}@")
        ]
        assert all(v < current for v in archived), (form_id, archived, current)
        for version in archived:
            assert load_template(form_id, version).version == version
