"""The advisory mode uses the drug library's oral:IT ratio, as the trial does: a site library
whose morphine ladder says 100:1 instead of 300:1 changes what the intelligent controller
predicts for a patient still on oral morphine (before, advisory mode always used 300)."""

from __future__ import annotations

from pathlib import Path

from idds.drugs import (
    TrustStore,
    generate_keypair,
    load_library,
    reference_library_path,
    sign_file,
)
from idds.drugs.library import DrugLibrary
from idds.programmer.advisory import AdvisoryRun, gather, load_observations, prepare
from tests.programmer.rig import LIBRARY, Rig, run
from tests.programmer.test_advisory import NOW, observations, pump_on

LADDER = 'oral_morphine_mg_per_mg = { oral = "1", iv = "3", epidural = "30", intrathecal = "300" }'


def site_library(tmp: Path, intrathecal: str) -> DrugLibrary:
    """The reference library with the morphine ladder's intrathecal factor changed, signed by
    a site key the test trusts."""
    text = reference_library_path().read_text()
    assert LADDER in text
    path = tmp / "site-library.toml"
    path.write_text(text.replace(LADDER, LADDER.replace('"300"', f'"{intrathecal}"')))
    private, public = generate_keypair(tmp / "site")
    sign_file(path, private)
    return load_library(path, TrustStore.only(public))


def advice_with(library: DrugLibrary, tmp: Path) -> AdvisoryRun:
    rig = Rig(tmp)
    prog = pump_on(rig)
    obs = observations(tmp).read_text().replace('oral_morphine = "0 mg/day"',
                                                'oral_morphine = "120 mg/day"')
    path = tmp / "on-oral.toml"
    path.write_text(obs)
    status, log = run(gather(prog))
    return prepare(status, log, load_observations(path), "intelligent", library, NOW, None)


def test_the_library_ratio_reaches_the_advisory_controller(tmp_path: Path) -> None:
    reference = advice_with(LIBRARY, tmp_path / "a")
    site = advice_with(site_library(tmp_path, "100"), tmp_path / "b")
    assert site.advice.predicted_nrs is not None and reference.advice.predicted_nrs is not None
    # 120 mg/day oral is 0.4 mg/day IT at 300:1 but 1.2 mg/day at 100:1: more drug on board
    assert site.advice.predicted_nrs != reference.advice.predicted_nrs
