"""The README is the user's manual: its first commands and its settings table stay true."""

from __future__ import annotations

import re

from campaign.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text()


def test_readme_documents_every_setting():
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", README))
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]
    assert missing == [], f"settings missing from the README's table: {missing}"


def test_readme_starts_with_the_run_and_test_commands_that_ci_uses():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test\n" in ci and "make test-pg" in ci
