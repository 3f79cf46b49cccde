"""Evidence snapshots and merge contexts for rendering tests, from the seed documents' facts."""

from __future__ import annotations

from datetime import date

from letters.rendering import CampaignInfo, MergeContext, Recipient, Sender, Signatory
from letters.rendering.engine import EvidenceSnapshot

EVIDENCE = {
    "liu-command": EvidenceSnapshot(
        slug="liu-command", version=1, kind="claim",
        title="Liu Jianchao had ultimate command of international fugitive recovery operations (2015-2017)",
        source_title="Liu Jianchao - caught by his own investigators", source_author="Safeguard Defenders",
        source_date=date(2024, 8, 15), source_url="https://safeguarddefenders.com/en/blog/liu-jianchao",
        accessed_date=date(2026, 11, 24)),
    "skynet-returns": EvidenceSnapshot(
        slug="skynet-returns", version=2, kind="figure", title="Claimed returns under Sky Net since 2014",
        data={"value": 10000, "unit": "returns", "as_of": "2021-12"},
        source_title="Involuntary Returns - report exposes long-arm policing overseas",
        source_author="Safeguard Defenders", source_date=date(2022, 1, 18),
        source_url="https://safeguarddefenders.com/en/blog/involuntary-returns"),
    "ir-methods-2018": EvidenceSnapshot(
        slug="ir-methods-2018", version=1, kind="table", title="Claimed successful returns by method, 2018",
        data={"columns": ["Method", "Share"], "rows": [["Involuntary returns", "64%"], ["Extradition", "1%"]]},
        source_title="Involuntary Returns - report exposes long-arm policing overseas",
        source_author="Safeguard Defenders", source_date=date(2022, 1, 18)),
    "liuzhi-quote": EvidenceSnapshot(
        slug="liuzhi-quote", version=1, kind="quote",
        title="Liu Jianchao on liuzhi",
        text="These are not criminal or judicial arrests and they are more effective.",
        data={"speaker": "Liu Jianchao"}, source_title="Safeguard Defenders submission",
        source_author="Safeguard Defenders"),
}


def lookup(slug: str) -> EvidenceSnapshot:
    return EVIDENCE[slug]


PRIME_MINISTER = Recipient(name="Rishi Sunak", given_name="Rishi", family_name="Sunak",
                           honorific_prefix="The Rt Hon", honorific_suffix="MP", office="Prime Minister",
                           address_lines=("10 Downing Street", "London SW1A 2AA"))

SIGNATORIES = (
    Signatory("Lord Alton of Liverpool", "Crossbench peer", "House of Lords", "Crossbench", "GB", surname="Alton"),
    Signatory("Tim Loughton MP", "", "House of Commons", "Conservative", "GB", surname="Loughton"),
    Signatory("Sarah Champion MP", "Chair, International Development Committee", "House of Commons", "Labour",
              "GB", surname="Champion"),
    Signatory("Alistair Carmichael MP", "", "House of Commons", "Liberal Democrats", "GB", surname="Carmichael"),
)


def context(recipient: Recipient | None = PRIME_MINISTER, **extra) -> MergeContext:
    return MergeContext(campaign=CampaignInfo(name="Stop the visit", slug="stop-the-visit"),
                        letter_date=date(2026, 11, 24), recipient=recipient,
                        sender=Sender(name="Luke de Pulford", organisation="Inter-Parliamentary Alliance on China",
                                      email="office@ipac.example"),
                        signatories=SIGNATORIES, extra=extra)
