"""The kudos demo scene, played with the rest of the demo week through the real app."""

from __future__ import annotations

import io
from pathlib import Path

from testkit.demo import run_demo


def test_the_demo_shows_a_kudos_post_a_refusal_and_the_digest(tmp_path: Path) -> None:
    assert run_demo(out_dir=str(tmp_path), quiet=True, out=io.StringIO()) == 0
    transcript = (tmp_path / "transcript.txt").read_text(encoding="utf-8")
    scene = transcript[transcript.index("Maya recognises Leo's resilience") :]
    assert "#wins sees a post from Rebound" in scene
    assert "@Maya gave kudos to @Leo for *resilience*" in scene
    assert "Leo gets a DM from Rebound" in scene
    assert "See the post in the recognition channel" in scene
    assert "kudos come from managers and admins" in scene
    digest = scene[scene.index("the weekly recognition digest") :]
    assert digest.count("This week's recognition") == 1
    assert "@Leo ×1 (resilience)" in digest
