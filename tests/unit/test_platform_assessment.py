"""Platform assessments (issue 17, part 2): the shipped verdicts, the verdict rules on hand-made
facts, the questionnaire round trip, the rules check refusing an account, and the PDF."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from archiefstroom import cli
from archiefstroom.commands import platform as platform_cmd
from archiefstroom.core.platforms import report
from archiefstroom.core.platforms.assessment import (CAPTURE, DUTO, Capture, Duto, Fact, Hosting, Method,
                                                     PlatformAssessment, Terms, assess, blank)
from archiefstroom.core.rules.registry import PLATFORMS
from archiefstroom.core.rules.settings import RulesSettings
from archiefstroom.ground import config, registries
from archiefstroom.ground.settings import ConfigError

SHIPPED = Path(config.DEFAULT_CONFIG).parent / "registry"


@pytest.fixture(scope="module")
def shipped():
    return registries.load(RulesSettings(), SHIPPED.parent).assessments.platforms


@pytest.fixture
def regdir(tmp_path):
    d = tmp_path / "registry"
    shutil.copytree(SHIPPED, d)
    (tmp_path / "archiefstroom.yaml").write_text("rules:\n  enabled: true\n")
    return d


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one `old` by `new`; returns the line where the edit starts."""
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return text[:text.index(old)].count("\n") + 1


# -- the shipped assessments, verdicts written by hand -----------------------------------------

# platform: (route 1, route 2, outcome, a phrase the route-2 or common conditions must hold)
EXPECTED = {
    "x": ("possible", "possible", "route 1 and route 2 possible", "7 days back"),
    "facebook": ("possible", "possible", "route 1 and route 2 possible", "media partial"),
    "instagram": ("possible", "possible", "route 1 and route 2 possible", "deletes no"),
    "linkedin": ("possible", "possible", "route 1 and route 2 possible", "reactions on reactions to verify"),
    "youtube": ("possible", "possible", "route 1 and route 2 possible", "YouTube exposes no deletes"),
    "mastodon": ("not possible", "possible", "route 2 possible", "REST polling does not see deletes"),
    "bluesky": ("possible", "possible", "route 1 and route 2 possible", "blobs"),
}


def test_every_platform_of_the_rules_is_assessed(shipped):
    assert set(shipped) == set(PLATFORMS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_verdict(shipped, name):
    route1, route2, outcome, phrase = EXPECTED[name]
    a = shipped[name]
    v = assess(a)
    assert (v.route1.status, v.route2.status, v.outcome) == (route1, route2, outcome)
    assert any(phrase in c for c in (*v.route2.conditions, *v.conditions)), (v.route2.conditions, v.conditions)
    md = report.markdown(name, a, v)
    assert md.startswith(f"# Platform assessment: {a.name}\n") and f"Outcome: {outcome}." in md
    for criterion in DUTO:
        assert f"| {criterion} |" in md
    for text in CAPTURE.values():
        assert f"| {text} |" in md
    who = [c.who for c in v.consult]
    assert who[:3] == ["records manager (recordmanager / DIV)", "privacy officer (functionaris gegevensbescherming, FG)",
                       "CIO office"] and any("VORA" in w for w in who)


def test_mastodon_route1_reason_and_youtube_master_copy(shipped):
    assert assess(shipped["mastodon"]).route1.reasons == (
        "reactions cannot be switched off (Mastodon has no switch to refuse replies to a post): every account "
        "there is two-way, so route 2 applies",)
    assert ("media no: keep the media files themselves another way (the video's link; the video file itself is "
            "not captured: keep the organisation's master copy)") in assess(shipped["youtube"]).conditions


# -- the verdict rules, on hand-made facts -------------------------------------------------------

def _all_yes() -> PlatformAssessment:
    yes = lambda: Fact("yes")   # noqa: E731
    return PlatformAssessment(
        name="Proef", methods=[Method("api", "Proef API", access="free", rate_limits="100 per minute")],
        capture=Capture(**{k: yes() for k in CAPTURE}), reactions_can_be_switched_off=yes(),
        terms=Terms("no"), hosting=Hosting("Amsterdam", "no"), duto=Duto(**{k: yes() for k in DUTO}))


def _with(changes: dict) -> PlatformAssessment:
    a = copy.deepcopy(_all_yes())
    for path, value in changes.items():
        if path == "methods":
            a.methods = value
            continue
        section, _, key = path.partition(".")
        if section in ("terms", "hosting"):
            setattr(getattr(a, section), key, value)
        elif key:
            getattr(getattr(a, section), key).answer = value
        else:
            getattr(a, section).answer = value
    return a


@pytest.mark.parametrize("changes,route1,route2,outcome", [
    ({}, "possible", "possible", "route 1 and route 2 possible"),
    ({"capture.reactions": "no"}, "possible", "not possible", "route 1 possible"),
    ({"reactions_can_be_switched_off": "no"}, "not possible", "possible", "route 2 possible"),
    ({"reactions_can_be_switched_off": "partial"}, "not possible", "possible", "route 2 possible"),
    ({"reactions_can_be_switched_off": "no", "capture.reactions": "no"}, "not possible", "not possible",
     "not archivable as required"),
    ({"capture.posts": "no"}, "not possible", "not possible", "not archivable as required"),
    ({"duto.betrouwbaar": "no"}, "not possible", "not possible", "not archivable as required"),
    ({"methods": []}, "not possible", "not possible", "not archivable as required"),
    ({"capture.reactions": "to verify"}, "possible", "to verify", "route 1 possible"),
    ({"capture.reactions": "to verify", "reactions_can_be_switched_off": "to verify"}, "to verify", "to verify",
     "to verify before use"),
    ({"capture.reactions": "partial"}, "possible", "possible", "route 1 and route 2 possible"),
    ({"capture.deletes": "no", "capture.nested_reactions": "no"}, "possible", "possible",
     "route 1 and route 2 possible"),
])
def test_verdict_table(changes, route1, route2, outcome):
    v = assess(_with(changes))
    assert (v.route1.status, v.route2.status, v.outcome) == (route1, route2, outcome)


def test_conditions_and_consultation_follow_the_facts():
    v = assess(_all_yes())
    assert v.conditions == () and v.route1.conditions == () and v.route2.conditions == () and v.open_facts == ()
    fg = dict((c.who, c.why) for c in v.consult)["privacy officer (functionaris gegevensbescherming, FG)"]
    assert any("direct messages" in w for w in fg) and not any("outside the EEA" in w for w in fg)

    v = assess(_with({"capture.deletes": "no", "capture.nested_reactions": "no", "capture.direct_messages": "no",
                      "terms.restricts_archiving": "yes", "hosting.outside_eea": "yes"}))
    assert [c.split(":")[0] for c in v.route2.conditions] == ["reactions on reactions no"]
    assert [c.split(":")[0] for c in v.conditions] == ["deletes no", "direct messages cannot (all) be archived",
                                                      "the platform's terms restrict archiving"]
    why = dict((c.who, c.why) for c in v.consult)
    assert any("outside the EEA" in w for w in why["privacy officer (functionaris gegevensbescherming, FG)"])
    assert any("restrict archiving" in w for w in why["CIO office"])

    v = assess(_with({"capture.posts": "no"}))
    assert v.route1.reasons == v.route2.reasons == ("the organisation's own posts cannot be captured (no details given)",)
    assert v.conditions == ()


# -- the questionnaire round trip ------------------------------------------------------------------

FILLED = {   # a made-up platform: replies can be read but never switched off, no deletes, EU-hosted
    "  posts: {answer: to verify": "  posts: {answer: yes",
    "  reactions: {answer: to verify": "  reactions: {answer: yes",
    "  nested_reactions: {answer: to verify": "  nested_reactions: {answer: partial",
    "  edits: {answer: to verify": "  edits: {answer: yes",
    "  deletes: {answer: to verify": "  deletes: {answer: no",
    "  media: {answer: to verify": "  media: {answer: yes",
    "  direct_messages: {answer: to verify": "  direct_messages: {answer: not applicable",
    "reactions_can_be_switched_off: {answer: to verify": "reactions_can_be_switched_off: {answer: no",
    "terms: {restricts_archiving: to verify": "terms: {restricts_archiving: no",
    "hosting: {where: to verify, outside_eea: to verify": "hosting: {where: Frankfurt, outside_eea: no",
    "checked: null": "checked: 2026-12-01",
    "methods: []": 'methods:\n  - {kind: api, name: "Kwebbel REST API", access: free, rate_limits: "60 per minute"}',
    **{f"  {k}: {{answer: to verify": f"  {k}: {{answer: yes" for k in DUTO},
}


def test_questionnaire_round_trip(tmp_path, regdir, capsys):
    cfg = str(regdir.parent / "archiefstroom.yaml")
    assert cli.main(["--config", cfg, "platform", "assess", "kwebbel", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    template = tmp_path / "kwebbel-questionnaire.yaml"
    assert out.strip() == template.read_text().strip() and "--answers FILE" in err

    blank_verdict = assess(registries.load_answers(template))        # loads as it is: nothing known yet
    assert blank_verdict.outcome == "to verify before use" and len(blank_verdict.open_facts) == 17
    assert assess(blank("kwebbel")).open_facts == blank_verdict.open_facts

    for old, new in FILLED.items():
        edit(template, old, new)
    filled = registries.load_answers(template)
    v = assess(filled)
    assert (v.route1.status, v.route2.status, v.outcome, v.open_facts) == (
        "not possible", "possible", "route 2 possible", ())
    assert [c.split(":")[0] for c in v.route2.conditions] == ["reactions on reactions partial"]
    assert [c.split(":")[0] for c in v.conditions] == ["deletes no"]

    assert cli.main(["--config", cfg, "platform", "assess", "kwebbel", "--answers", str(template),
                     "--out", str(tmp_path)]) == 0
    out, _ = capsys.readouterr()
    assert "Outcome: route 2 possible." in out and "Kwebbel REST API" in out
    assert (tmp_path / "kwebbel-assessment.md").read_text().strip() == out.strip()
    assert (tmp_path / "kwebbel-assessment.pdf").stat().st_size > 1000


def test_a_wrong_answer_names_file_line_and_field(tmp_path, capsys):
    path = tmp_path / "answers.yaml"
    path.write_text(report.questionnaire("kwebbel"))
    at = edit(path, "  deletes: {answer: to verify", "  deletes: {answer: misschien")
    with pytest.raises(ConfigError) as exc:
        registries.load_answers(path)
    assert exc.value.field == "capture.deletes.answer" and exc.value.line == at
    assert cli.main(["platform", "assess", "kwebbel", "--answers", str(path)]) == 2
    assert f"{path}:{at}: field 'capture.deletes.answer': expected true or false or one of 'yes'" \
        in capsys.readouterr().err


# -- rules check refuses what the assessment does not allow ----------------------------------------

def test_rules_check_refuses_route2_where_reactions_cannot_be_captured(regdir, capsys):
    # a hand-made bad account: YouTube as if its comment API were gone, and an account on route 2 there
    edit(regdir / "assessments.yaml",
         'reactions: {answer: yes, how: "commentThreads (allThreadsRelatedToChannelId or videoId) and comments (parentId)"}',
         'reactions: {answer: no, note: "no comment API"}')
    at = edit(regdir / "accounts.yaml", "  # a known private person",
              "  - {platform: youtube, id: GemeenteUtrecht, organisation: Gemeente Utrecht, type: corporate,\n"
              "     route: 2}\n  # a known private person")
    accounts = regdir / "accounts.yaml"
    assert cli.main(["--config", str(regdir.parent / "archiefstroom.yaml"), "rules", "check"]) == 2
    err = capsys.readouterr().err
    assert err == (f"archiefstroom: configuration error: {accounts}:{at + 1}: field 'accounts[10].route': "
                   "expected a route its platform can be archived on: account youtube:GemeenteUtrecht on "
                   f"route 2, but {regdir / 'assessments.yaml'} says youtube route 2 is not possible: "
                   "reactions cannot be captured (no comment API): the two-way communication route 2 must "
                   "archive would be lost, got 2\n")


def test_the_shipped_accounts_pass_and_route1_stays_allowed_on_that_platform(regdir, capsys):
    edit(regdir / "assessments.yaml",
         'reactions: {answer: yes, how: "commentThreads (allThreadsRelatedToChannelId or videoId) and comments (parentId)"}',
         'reactions: {answer: no, note: "no comment API"}')
    reg = registries.load(RulesSettings(), regdir.parent)    # youtube:Rijksoverheid is on route 1
    assert reg.route(reg.account("youtube", "Rijksoverheid")) == 1 and reg.warnings == []


def test_an_undecided_route_warns_and_a_contradiction_is_refused(regdir):
    edit(regdir / "assessments.yaml", 'reactions_can_be_switched_off: {answer: yes, how: "reply controls (threadgate) per post"}',
         "reactions_can_be_switched_off: {answer: to verify}")
    reg = registries.load(RulesSettings(), regdir.parent)
    assert reg.warnings == ["account bluesky:rijksoverheid.bsky.social: route 1 is to verify in the platform "
                            "assessment (whether reactions can be switched off is to verify)"]
    at = edit(regdir / "assessments.yaml", "reactions_can_be_switched_off: {answer: to verify}",
              "reactions_can_be_switched_off: {answer: no}")
    with pytest.raises(ConfigError) as exc:
        registries.load(RulesSettings(), regdir.parent)
    err = exc.value
    assert Path(err.file).name == "assessments.yaml" and err.line == at
    assert err.field == "platforms.bluesky.reactions_can_be_switched_off"
    assert err.expected == (f"the same answer as {regdir / 'platforms.yaml'} (reactions_can_be_switched_off: true)")


def test_missing_section_is_named(regdir):
    at = edit(regdir / "assessments.yaml", "  bluesky:\n    name: Bluesky (AT Protocol)\n",
              "  bluesky:\n    name: Bluesky (AT Protocol)\n    colour: blue\n")
    with pytest.raises(ConfigError) as exc:
        registries.load(RulesSettings(), regdir.parent)
    assert exc.value.field == "platforms.bluesky.colour" and exc.value.line == at + 2


# -- the PDF ----------------------------------------------------------------------------------------

def test_pdf_renders(shipped, tmp_path):
    md, pdf_path = platform_cmd.write("youtube", shipped["youtube"], assess(shipped["youtube"]), tmp_path)
    assert md.name == "youtube-assessment.md" and pdf_path.name == "youtube-assessment.pdf"
    pdf = pdfium.PdfDocument(str(pdf_path))
    text = pdf[0].get_textpage().get_text_range()
    assert "Platform assessment: YouTube (channels)" in text and "route 1 and route 2 possible" in text
    image = pdf[0].render(scale=1.0).to_pil().convert("L")
    dark = sum(1 for p in image.getdata() if p < 128) / (image.width * image.height)
    assert 0.003 < dark < 0.5, f"first page is blank or black ({dark:.4f} dark)"
