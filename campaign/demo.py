"""The demo campaign, built from the facts of the seed documents.

The facts and figures below come from the five documents in ``shared/seeds/``: a news
report of the cross-party letter about Liu Jianchao's visit to London, Safeguard
Defenders' dossier on Liu Jianchao ("caught by his own investigators"), a Pacific
Standard article on Interpol's 2017 general assembly in Beijing, Safeguard Defenders'
"Involuntary Returns" announcement and its note on the European Parliament's urgency
resolution of 9 June 2022. The wording is ours; nothing here is a figure the
documents do not give. Where a document does not state a date (the London visit),
the event carries only the precision that is known.

``load`` is idempotent: every item is looked up by its natural key (campaign slug, ask
slug, event kind and title, evidence slug, a person's name) and only what is missing
is created, so a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, func, select

from campaign import service
from campaign.models import Ask, Campaign, CampaignStatus, EventKind, EvidenceKind
from campaign.schemas import AskCreate, CampaignCreate, EventCreate, EvidenceCreate
from contacts import service as contacts_service
from letters import demo as letters_demo
from contacts.models import Identifier, Membership, Organization, StanceSource

ACTOR = "demo"
DEMO_SCHEME = "cosign-demo"  # an identifier on each demo contact, so a second run finds them again
CAMPAIGN_SLUG = "stop-the-visit"

# --- sources, as the documents give them ------------------------------------------------

NEWS_LETTER = {
    "source_title": "Cross-party letter to the Prime Minister on Liu Jianchao's visit (news report)",
    "source_author": "",
    "reliability_notes": "Newspaper copy held without its masthead, byline or date. It quotes the parliamentarians' "
                         "letter (coordinated by the Inter-Parliamentary Alliance on China) and the Safeguard "
                         "Defenders submission the letter relies on.",
}
SD_REVIEW = {
    "source_title": "Liu Jianchao - caught by his own investigators",
    "source_author": "Safeguard Defenders",
    "reliability_notes": "Publishes Safeguard Defenders' internal review of Liu Jianchao written in mid-2023; its data "
                         "reflect that date. Official figures are footnoted to CCDI, Xinhua and gov.cn pages.",
}
INVOLUNTARY_RETURNS = {
    "source_title": "Involuntary Returns – report exposes long-arm policing overseas",
    "source_author": "Safeguard Defenders",
    "source_date": date(2022, 1, 18),
    "source_url": "https://safeguarddefenders.com/en/blog/involuntary-returns-report-exposes-long-arm-policing-overseas",
}
EP_NOTE = {
    "source_title": "EU Parliament calls for sanctions on Chief of Chinese Police and others",
    "source_author": "Safeguard Defenders",
    "source_date": date(2022, 6, 9),
}
PACIFIC_STANDARD = {
    "source_title": "Is China Using Interpol to Try to Bring Back Political Dissidents From the U.S.?",
    "source_author": "Pacific Standard",
    "reliability_notes": "Undated in the copy held; written in the week the 86th Interpol General Assembly opened "
                         "in Beijing (26 September 2017).",
}
XINHUA_2018 = "http://www.xinhuanet.com/legal/2019-01/23/c_1124027691.htm"

# --- the campaign and its asks -------------------------------------------------------------

CAMPAIGN = {
    "slug": CAMPAIGN_SLUG,
    "name": "Stop the visit: accountability for China's involuntary returns",
    "status": CampaignStatus.active,
    "timezone": "Europe/London",
    "summary": "Liu Jianchao, head of the Chinese Communist Party's International Department, commanded the "
               "Sky Net / Fox Hunt \"fugitive recovery\" operations from 2015 to 2017 and helped design liuzhi, the "
               "CCDI's system of incommunicado detention. This campaign moves parliamentarians to refuse him a "
               "platform and to press governments to act on China's involuntary returns.",
    "goal": "A cross-party group in both Houses asks the government to reconsider the visit, to suspend extradition "
            "arrangements with the PRC, to sanction the officials responsible and to say how these operations "
            "are monitored in the UK.",
}

ASKS = [
    ("refuse-the-visit", "Refuse the visit",
     "Ask the Prime Minister to reconsider letting Liu Jianchao visit, speak at Chatham House and meet "
     "parliamentarians, and to explain how he was given a visa."),
    ("suspend-extradition-treaties", "Suspend the extradition treaties with the PRC",
     "Suspend extradition treaties with China and Hong Kong, as the European Parliament asked on 9 June 2022, "
     "and review other judicial cooperation."),
    ("magnitsky-sanctions", "Magnitsky-style sanctions on named officials",
     "Sanction the officials responsible for involuntary returns, liuzhi and the mass internment in Xinjiang, "
     "such as the Minister of Public Security named in the European Parliament's resolution."),
    ("ask-about-monitoring", "Ask the government whether these operations are monitored",
     "Members ask their government if and how involuntary returns are monitored, how often they happen in the "
     "country, and what is being done to counter them."),
    ("end-nsc-agreements", "End agreements with the National Supervision Commission",
     "Terminate any agreement signed with the NSC, the body in command of Sky Net, and review other forms of "
     "judicial and police cooperation."),
    ("protect-the-diaspora", "Reporting and protection for the diaspora",
     "Set up dedicated ways for people targeted in the UK to report pressure and get protection."),
]


# --- organisations and people --------------------------------------------------------------

@dataclass
class Org:
    key: str
    name: str
    classification: str
    country: str = ""
    parent: str = ""
    abbreviation: str = ""


ORGANIZATIONS = [
    # Named and classified as the UK Commons Popolo import names them, so an import finds the same rows.
    Org("commons", "House of Commons", "parliament", "GB"),
    Org("lords", "House of Lords", "parliament", "GB"),
    Org("labour", "Labour", "party", "GB"),
    Org("conservative", "Conservative", "party", "GB"),
    Org("libdem", "Liberal Democrat", "party", "GB"),
    Org("crossbench", "Crossbench", "party", "GB"),
    Org("idc", "International Development Committee", "committee", "GB", parent="commons"),
    Org("ipac", "Inter-Parliamentary Alliance on China", "cross_party_group", abbreviation="IPAC"),
    Org("fcdo", "Foreign, Commonwealth and Development Office", "department", "GB", abbreviation="FCDO"),
    Org("european-parliament", "European Parliament", "parliament", abbreviation="EP"),
    Org("safeguard-defenders", "Safeguard Defenders", "ngo"),
    Org("hrw", "Human Rights Watch", "ngo", abbreviation="HRW"),
    Org("chatham-house", "Chatham House", "ngo", "GB"),
    Org("interpol", "Interpol", "other"),
    Org("ohchr", "Office of the UN High Commissioner for Human Rights", "other", abbreviation="OHCHR"),
    Org("ild", "International Department of the CPC Central Committee", "government", "CN", abbreviation="ILD"),
    Org("ccdi", "Central Commission for Discipline Inspection", "government", "CN", abbreviation="CCDI"),
    Org("mps", "Ministry of Public Security", "department", "CN", abbreviation="MPS"),
]


@dataclass
class Contact:
    key: str
    name: str
    given_name: str = ""
    family_name: str = ""
    honorific_prefix: str = ""
    honorific_suffix: str = ""
    birth_date: date | None = None
    notes: str = ""
    # (organisation key, role, on behalf of (party key), start date)
    memberships: list[tuple[str, str, str, date | None]] = field(default_factory=list)
    # (ask slug, position, evidence slug that shows it, note)
    stances: list[tuple[str, str, str, str]] = field(default_factory=list)


LETTER_NOTE = "Signed the cross-party letter urging the Prime Minister to reconsider Liu Jianchao's visit."

CONTACTS = [
    Contact("champion", "Sarah Champion", "Sarah", "Champion", honorific_suffix="MP",
            notes="Chair of the International Development Select Committee; signed the cross-party letter. "
                  "Party from the public record (the letter names her by her committee).",
            memberships=[("commons", "Member of Parliament", "labour", None),
                         ("idc", "Chair", "", None), ("ipac", "Member", "", None)],
            stances=[("refuse-the-visit", "champion", "quote-line-crossed", LETTER_NOTE)]),
    Contact("alton", "Lord Alton", family_name="Alton", honorific_prefix="Lord",
            notes="Peer; signed the cross-party letter. Crossbench seat from the public record.",
            memberships=[("lords", "Member of the House of Lords", "crossbench", None), ("ipac", "Member", "", None)],
            stances=[("refuse-the-visit", "champion", "quote-line-crossed", LETTER_NOTE)]),
    Contact("loughton", "Tim Loughton", "Tim", "Loughton", honorific_suffix="MP",
            notes="Conservative MP when he signed the cross-party letter.",
            memberships=[("commons", "Member of Parliament", "conservative", None), ("ipac", "Member", "", None)],
            stances=[("refuse-the-visit", "champion", "quote-line-crossed", LETTER_NOTE)]),
    Contact("carmichael", "Alistair Carmichael", "Alistair", "Carmichael", honorific_suffix="MP",
            notes="Liberal Democrat MP; signed the cross-party letter.",
            memberships=[("commons", "Member of Parliament", "libdem", None), ("ipac", "Member", "", None)],
            stances=[("refuse-the-visit", "champion", "quote-line-crossed", LETTER_NOTE)]),
    Contact("cleverly", "James Cleverly", "James", "Cleverly",
            notes="Foreign Secretary at the time of the visit; accused by some MPs of going soft on China and "
                  "due to visit Beijing. The documents record no stance of his on the asks.",
            memberships=[("commons", "Member of Parliament", "conservative", None),
                         ("fcdo", "Foreign Secretary", "", None)]),
    Contact("liu", "Liu Jianchao", "Jianchao", "Liu", birth_date=date(1964, 2, 23),
            notes="刘建超, born in Dehui, Jilin Province. Head of the International Fugitive Recovery Office and "
                  "Director of the CCDI International Cooperation Bureau (August 2015 – April 2017); Secretary of "
                  "the Zhejiang Commission for Discipline Inspection (2017 – May 2018); head of the International "
                  "Department from May 2022.",
            memberships=[("ild", "Head", "", date(2022, 5, 1)), ("ccdi", "Member of the 19th Commission", "", None)]),
    Contact("zhao", "Zhao Kezhi", "Kezhi", "Zhao",
            notes="Minister of Public Security from 4 November 2017; named in the European Parliament's call for "
                  "sanctions of 9 June 2022.",
            memberships=[("mps", "Minister of Public Security", "", date(2017, 11, 4))]),
    Contact("meng", "Meng Hongwei", "Hongwei", "Meng",
            notes="Chinese Vice Minister for Public Security at the head of Interpol in 2017.",
            memberships=[("mps", "Vice Minister for Public Security", "", None), ("interpol", "President", "", None)]),
    Contact("harth", "Laura Harth", "Laura", "Harth", notes="Campaign director of Safeguard Defenders.",
            memberships=[("safeguard-defenders", "Campaign Director", "", None)]),
    Contact("richardson", "Sophie Richardson", "Sophie", "Richardson", notes="China director of Human Rights Watch.",
            memberships=[("hrw", "China Director", "", None)]),
    Contact("bachelet", "Michelle Bachelet", "Michelle", "Bachelet",
            notes="UN High Commissioner for Human Rights; visited China in May 2022.",
            memberships=[("ohchr", "High Commissioner for Human Rights", "", None)]),
]

# --- events ----------------------------------------------------------------------------------------


@dataclass
class DemoEvent:
    kind: EventKind
    title: str
    start: str
    summary: str
    sources: list[dict[str, str]]
    end: str = ""
    place: str = ""
    people: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)


def _src(title: str, url: str = "") -> dict[str, str]:
    return {"title": title, "url": url}


SD_REVIEW_SRC = _src("Safeguard Defenders, Liu Jianchao - caught by his own investigators")
IR_SRC = _src("Safeguard Defenders, Involuntary Returns (18 January 2022)", INVOLUNTARY_RETURNS["source_url"])
EP_SRC = _src("Safeguard Defenders, EU Parliament calls for sanctions on Chief of Chinese Police and others (9 June 2022)")
PS_SRC = _src("Pacific Standard, Is China Using Interpol to Try to Bring Back Political Dissidents From the U.S.?")
NEWS_SRC = _src("News report of the cross-party letter to the Prime Minister")

EVENTS = [
    DemoEvent(EventKind.other, "International Fugitive Recovery Office set up", "2014-06-27",
              "The CCP Central Committee creates an inter-agency office to \"organize and command\" the "
              "international arm of the anti-corruption drive.", [SD_REVIEW_SRC], place="Beijing"),
    DemoEvent(EventKind.other, "Operation Fox Hunt launched", "2014-07-22",
              "The Ministry of Public Security launches Fox Hunt.", [SD_REVIEW_SRC], organizations=["mps"]),
    DemoEvent(EventKind.other, "Operation Sky Net launched", "2015-04",
              "A task force of the CCDI, the Supreme Procuratorate, the Ministry of Public Security, the central "
              "bank and the Central Organization Department launches Sky Net, which takes in Fox Hunt.",
              [SD_REVIEW_SRC], organizations=["ccdi", "mps"]),
    DemoEvent(EventKind.other, "Liu Jianchao commands international fugitive recovery", "2015-08", end="2017-04",
              summary="Liu Jianchao heads the International Fugitive Recovery Office and directs the CCDI's "
                      "International Cooperation Bureau.", sources=[SD_REVIEW_SRC], people=["liu"],
              organizations=["ccdi"]),
    DemoEvent(EventKind.statement, "Human Rights Watch asks Interpol to stop China's red notice abuse", "2017-09-25",
              "The day before the general assembly opens, HRW calls on Interpol to address China's use of red "
              "notices against dissidents.", [PS_SRC], people=["richardson"], organizations=["hrw", "interpol"]),
    DemoEvent(EventKind.meeting, "Xi Jinping opens the 86th Interpol General Assembly in Beijing", "2017-09-26",
              "Participants from 156 countries attend; Meng Hongwei, a Chinese vice minister for public security, "
              "heads Interpol.", [PS_SRC], place="Beijing National Convention Center, Beijing",
              people=["meng"], organizations=["interpol"]),
    DemoEvent(EventKind.other, "Sky Net moves under the National Supervision Commission", "2018-04",
              "After the National Supervision Law is adopted, overall control of Sky Net passes to the CCDI's state "
              "front, the NCS.", [SD_REVIEW_SRC], organizations=["ccdi"]),
    DemoEvent(EventKind.statement, "UN working group denounces liuzhi", "2019-09",
              "The UN Working Group on Enforced and Involuntary Disappearances sends a general allegation letter on "
              "the liuzhi system.", [SD_REVIEW_SRC]),
    DemoEvent(EventKind.statement, "US charges eight people over a Fox Hunt intimidation plot", "2020-10",
              "Assistant Attorney General John C. Demers announces charges over a three-year plot to force a US "
              "resident back to China.", [SD_REVIEW_SRC], place="United States"),
    DemoEvent(EventKind.report, "Safeguard Defenders publishes Involuntary Returns", "2022-01-18",
              "The report maps three types of involuntary return from 62 cases and finds that in 2018 persuasion "
              "made up some 64% of claimed returns and extradition 1%.", [IR_SRC],
              people=["harth"], organizations=["safeguard-defenders"]),
    DemoEvent(EventKind.sanction, "US visa restrictions on PRC officials for transnational repression", "2022-03-21",
              "The US State Department restricts visas for PRC officials involved in repression of minorities and "
              "religious practitioners inside and outside China.", [EP_SRC], place="Washington"),
    DemoEvent(EventKind.statement, "Michelle Bachelet ends her visit to China", "2022-05-28",
              "The UN High Commissioner's closing statement, widely criticised, mentions concerns about "
              "Residential Surveillance at a Designated Location.", [EP_SRC], place="China",
              people=["bachelet"], organizations=["ohchr"]),
    DemoEvent(EventKind.resolution, "European Parliament urgency resolution calls for sanctions", "2022-06-09",
              "After the Xinjiang Police Files, the Parliament asks for sanctions on officials including Zhao Kezhi, "
              "Chen Quanguo, Guo Shengkun and Hu Lianhe, and for the suspension of extradition treaties with China "
              "and Hong Kong.", [EP_SRC], people=["zhao"], organizations=["european-parliament"]),
    DemoEvent(EventKind.court_ruling, "European Court of Human Rights rules in Liu v. Poland", "2022-10",
              "The Court finds that sending a person back to China would expose them to an irreparable risk of "
              "treatment contrary to Article 3 of the Convention.", [SD_REVIEW_SRC], place="Strasbourg"),
    DemoEvent(EventKind.court_ruling, "Liu v. Poland judgment enters into force", "2023-01-30",
              "The judgment becomes final, a de facto bar on extradition to the PRC from Council of Europe states.",
              [SD_REVIEW_SRC]),
    DemoEvent(EventKind.visit, "Liu Jianchao visits London to speak at Chatham House", "2023",
              "The head of the CPC International Department is due to speak at Chatham House and meet UK "
              "parliamentarians; victims' families explore applying for his arrest at Westminster magistrates "
              "court. (The report says \"this week\"; the documents give the year only.)", [NEWS_SRC],
              place="Chatham House, London", people=["liu"], organizations=["chatham-house", "ild"]),
    DemoEvent(EventKind.letter_sent, "Cross-party parliamentarians write to the Prime Minister", "2023",
              "MPs and peers, coordinated by IPAC, urge the Prime Minister to reconsider the visit and ask how Liu "
              "was given a visa.", [NEWS_SRC], place="London",
              people=["champion", "alton", "loughton", "carmichael"], organizations=["ipac"]),
    DemoEvent(EventKind.arrest_or_detention, "Liu Jianchao taken away for questioning", "2025-08",
              "Reuters reports that Liu was taken for questioning at the beginning of August; no details of the "
              "investigation are given. (Month inferred: the dossier's cover note refers to a submission of "
              "6 July 2025.)", [SD_REVIEW_SRC], place="China", people=["liu"], organizations=["ccdi"]),
]

# --- evidence ------------------------------------------------------------------------------------------


@dataclass
class DemoEvidence:
    slug: str
    kind: EvidenceKind
    title: str
    text: str
    source: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    source_url: str = ""
    events: list[str] = field(default_factory=list)  # event titles
    people: list[str] = field(default_factory=list)  # contact keys


EVIDENCE = [
    DemoEvidence(
        "skynet-returns-per-year", EvidenceKind.table, "Sky Net / Fox Hunt returns per year, 2014–2022",
        "Successful returns claimed by the CCDI each year, and how many Safeguard Defenders counts as suspected "
        "irregular returns.", SD_REVIEW,
        data={"columns": ["Year", "Successful return cases", "Suspected irregular returns",
                          "From stated number of countries", "Note"],
              "rows": [[2014, 680, 435, "", ""], [2015, 1023, 655, "66", ""], [2016, 1032, 660, "70+", ""],
                       [2017, 1300, 832, "90+", ""], [2018, 1335, 854, "100+", ""], [2019, 2041, 1306, "", ""],
                       [2020, 1421, 909, "120+", ""], [2021, 1273, 815, "", ""],
                       [2022, 1019, 652, "120+", "January–September only"], [2023, None, None, "", "No data"],
                       ["Total", 11124, 7119, "", ""]]},
        tags=["sky-net", "fox-hunt", "data", "headline"],
        notes="Safeguard Defenders' summary of the CCDI annual work reports, which usually separate returns through "
              "legal cooperation (extradition, deportation) from other methods, counted here as suspected irregular "
              "returns. The printed total of suspected irregular returns (7,119) is one more than the sum of the "
              "yearly figures (7,118), presumably from rounding; it is kept as printed."),
    DemoEvidence(
        "skynet-return-methods-2018", EvidenceKind.table, "How the 2018 Sky Net / Fox Hunt returns were made",
        "A rare detailed breakdown of the 1,335 returns the CCDI reported for 2018.", SD_REVIEW,
        data={"columns": ["Method", "Returns", "Share of all returns", "Share without those caught at the border "
                                                                      "or in China"],
              "rows": [["\"Voluntary\" return", 851, "64%", "91.42%"], ["Deportation", 66, "5%", "7.14%"],
                       ["Extradition", 17, "1%", "1.42%"], ["Other", 1, "0%", "0%"],
                       ["Caught at border", 202, "15%", ""], ["Caught in China", 198, "15%", ""],
                       ["Total", 1335, "100%", "99.98%"]]},
        source_url=XINHUA_2018, tags=["sky-net", "fox-hunt", "data", "headline"],
        notes="Official CCDI figures as published by Xinhua and tabulated by Safeguard Defenders; the percentages "
              "are Safeguard Defenders' and are truncated, so they do not add up exactly."),
    DemoEvidence(
        "skynet-returns-2018", EvidenceKind.figure, "Sky Net / Fox Hunt returns in 2018",
        "The CCDI claimed 1,335 successful returns under Sky Net / Fox Hunt in 2018, from more than 100 countries.",
        SD_REVIEW, data={"value": 1335, "unit": "returns", "as_of": "2018"}, source_url=XINHUA_2018,
        tags=["sky-net", "fox-hunt", "headline"]),
    DemoEvidence(
        "voluntary-return-share-2018", EvidenceKind.figure, "Share of 2018 returns made by \"persuasion to return\"",
        "In 2018 involuntary (so-called voluntary) returns made up some 64% of the successful returns Sky Net "
        "claimed.", INVOLUNTARY_RETURNS, data={"value": 64, "unit": "%", "as_of": "2018"},
        tags=["sky-net", "involuntary-returns", "headline"]),
    DemoEvidence(
        "extradition-share-2018", EvidenceKind.figure, "Share of 2018 returns made by extradition",
        "Extradition, the proper judicial channel, accounted for only 1% of the returns claimed in 2018 "
        "(17 of 1,335).", INVOLUNTARY_RETURNS, data={"value": 1, "unit": "%", "as_of": "2018"},
        tags=["sky-net", "extradition", "headline"]),
    DemoEvidence(
        "returns-under-liu", EvidenceKind.figure, "Returns during Liu Jianchao's command and oversight",
        "Official figures for August 2015 to September 2022 add up to 9,933 returns, 6,356 of them by suspected "
        "irregular methods.", SD_REVIEW, data={"value": 9933, "unit": "returns", "as_of": "2022-09"},
        tags=["sky-net", "liu-jianchao", "headline"], people=["liu"],
        notes="Safeguard Defenders' calculation from CCDI data; 2015 counts August to December only (512 returns)."),
    DemoEvidence(
        "returns-to-february-2022", EvidenceKind.figure, "People returned to China, 2014 to February 2022",
        "Official CCDI data say 10,105 people, foreign citizens among them, were returned to China from over "
        "120 countries between 2014 and February 2022, mostly by irregular methods.", EP_NOTE,
        data={"value": 10105, "unit": "people", "as_of": "2022-02"}, tags=["sky-net"],
        notes="Figure from a March 2022 statement of the NSC–CCDI Office of International Fugitive Recovery, "
              "as reported by Safeguard Defenders."),
    DemoEvidence(
        "liuzhi-by-province", EvidenceKind.table, "Liuzhi detentions reported by provinces, 2017–2021",
        "The sporadic official figures on people placed in liuzhi, by province and year. Some provinces later "
        "corrected their numbers.", SD_REVIEW,
        data={"columns": ["Province", "Year", "People placed in liuzhi", "Corrected figure"],
              "rows": [["Beijing (pilot)", "2017", 61, None], ["Shanxi (pilot)", "2017", 42, None],
                       ["Zhejiang (pilot)", "2017", 266, None], ["Jiangxi", "2018", 308, None],
                       ["Guizhou", "2018", 346, None], ["Fujian", "2018", 224, None],
                       ["Heilongjiang", "2018", 487, None], ["Yunnan", "2018", 485, None],
                       ["Shanghai", "2018", 65, None], ["Zhejiang", "2018", 700, None],
                       ["Liaoning", "2018", 718, None], ["Jiangsu", "2019", 844, 1125], ["Beijing", "2019", 204, 245],
                       ["Henan", "2019", 877, None], ["Jilin", "2020", 275, 300], ["Heilongjiang", "2020", 376, None],
                       ["Jilin", "2021", 61, 92], ["Shanxi", "2021", 457, 914], ["Inner Mongolia", "2021", 185, 317],
                       ["Nationwide", "2021", 5006, None], ["Hunan", "2018–2021", 328, None],
                       ["Gansu", "2018–2020", 234, None], ["Total reported", "", 11846, 12193]]},
        tags=["liuzhi", "data"],
        notes="Rows and totals as printed in the dossier. The printed totals (11,846 and 12,193) are not the sum of "
              "the rows shown (12,549), and the dossier does not say how they were reached; quote them as the "
              "dossier's totals."),
    DemoEvidence(
        "liuzhi-reported-total", EvidenceKind.figure, "People placed in liuzhi, officially reported, 2017–2021",
        "Officially reported numbers alone add up to at least 12,193 people placed in liuzhi between 2017 and "
        "2021.", SD_REVIEW, data={"value": 12193, "unit": "people", "as_of": "2021"},
        tags=["liuzhi", "headline"]),
    DemoEvidence(
        "liuzhi-nationwide-2021", EvidenceKind.figure, "People placed in liuzhi nationwide in 2021",
        "The one nationwide figure released: 5,006 people placed in liuzhi in 2021.", SD_REVIEW,
        data={"value": 5006, "unit": "people", "as_of": "2021"}, tags=["liuzhi"]),
    DemoEvidence(
        "liuzhi-zhejiang-2018", EvidenceKind.figure, "Liuzhi in Zhejiang under Liu Jianchao, 2018",
        "Zhejiang, where Liu Jianchao was discipline secretary, placed 266 people in liuzhi in the 2017 pilot and "
        "700 in 2018.", SD_REVIEW, data={"value": 700, "unit": "people", "as_of": "2018"},
        tags=["liuzhi", "liu-jianchao"], people=["liu"]),
    DemoEvidence(
        "liuzhi-daily-estimate", EvidenceKind.claim, "How many people enter liuzhi each day",
        "A conservative extrapolation by Safeguard Defenders puts the number placed in liuzhi at a minimum "
        "average of 16 to 76 people every day.", SD_REVIEW, tags=["liuzhi"],
        notes="An estimate extrapolated from partial provincial data, not an official figure. The news report of "
              "the letter gives it as \"approximately up to 70\" a day; cite the dossier's range."),
    DemoEvidence(
        "extracted-from-abroad", EvidenceKind.figure, "Fugitives or exiles extracted from abroad",
        "The Safeguard Defenders submission estimates that more than 9,000 Chinese fugitives or exiles have been "
        "extracted from abroad.", NEWS_LETTER, data={"value": 9000, "unit": "people (more than)", "as_of": "2023"},
        tags=["sky-net", "uk-letter"]),
    DemoEvidence(
        "uk-cases", EvidenceKind.claim, "Returns from the United Kingdom",
        "PRC public records show at least two people were clandestinely and forcibly returned from the United "
        "Kingdom while Liu Jianchao led these operations.", SD_REVIEW, tags=["uk", "liu-jianchao"],
        people=["liu"]),
    DemoEvidence(
        "liu-command-2015-2017", EvidenceKind.claim, "Liu Jianchao's command of fugitive recovery",
        "From August 2015 to April 2017 Liu Jianchao headed the International Fugitive Recovery Office and directed "
        "the CCDI's International Cooperation Bureau, with command of thousands of recovery operations.",
        SD_REVIEW, tags=["liu-jianchao", "sky-net"], people=["liu"],
        events=["Liu Jianchao commands international fugitive recovery"]),
    DemoEvidence(
        "extradition-treaty-countries", EvidenceKind.claim, "Treaties do not stop involuntary returns",
        "About 19% of cases where agents were sent abroad, and 55% of kidnappings, took place in countries with "
        "(ratified) extradition treaties with China.", INVOLUNTARY_RETURNS, tags=["extradition", "involuntary-returns"]),
    DemoEvidence(
        "liu-v-poland", EvidenceKind.claim, "Liu v. Poland",
        "The European Court of Human Rights held in October 2022 (final on 30 January 2023) that returning a person "
        "to China would put them at irreparable risk of treatment contrary to Article 3 of the Convention.",
        SD_REVIEW, tags=["extradition", "echr"],
        events=["European Court of Human Rights rules in Liu v. Poland", "Liu v. Poland judgment enters into force"]),
    DemoEvidence(
        "interpol-red-notices-2016", EvidenceKind.figure, "Chinese red notices and extraditions",
        "Xinhua reported that China issued 612 Interpol red notices in the year before the 2017 general assembly, "
        "leading to 17 extraditions.", PACIFIC_STANDARD, data={"value": 612, "unit": "red notices", "as_of": "2016"},
        tags=["interpol"], events=["Xi Jinping opens the 86th Interpol General Assembly in Beijing"]),
    DemoEvidence(
        "telecom-fraud-returns", EvidenceKind.figure, "\"Persuaded to return\" in the telecom fraud campaign",
        "The Ministry of Public Security announced on 17 August 2022 that 230,000 suspects had been \"persuaded to "
        "return\" from overseas between April 2021 and July 2022 under this campaign alone.", SD_REVIEW,
        data={"value": 230000, "unit": "people", "as_of": "2022-07"}, tags=["involuntary-returns"]),
    DemoEvidence(
        "quote-liu-liuzhi", EvidenceKind.quote, "Liu Jianchao on liuzhi",
        "These are not criminal or judicial arrests and they are more effective.", SD_REVIEW,
        data={"speaker": "Liu Jianchao"}, tags=["liuzhi", "liu-jianchao", "quote", "uk-letter"], people=["liu"],
        notes="Also quoted in the parliamentarians' letter."),
    DemoEvidence(
        "quote-line-crossed", EvidenceKind.quote, "The parliamentarians' letter: a line is crossed",
        "a line is crossed when someone with his human rights background is afforded such a platform",
        NEWS_LETTER, data={"speaker": "Cross-party letter of MPs and peers to the Prime Minister"},
        tags=["uk-letter", "quote"], people=["champion", "alton", "loughton", "carmichael"],
        events=["Cross-party parliamentarians write to the Prime Minister"]),
    DemoEvidence(
        "quote-harth-persuasion", EvidenceKind.quote, "Laura Harth on persuasion to return",
        "the 'persuasion to return' operations account for the vast majority of successful fugitive returns and "
        "flaunted those individuals' as well as their families' rights to a legal defence and fair trial",
        NEWS_LETTER, data={"speaker": "Laura Harth, campaign director, Safeguard Defenders"},
        tags=["involuntary-returns", "quote"], people=["harth"]),
    DemoEvidence(
        "quote-kite", EvidenceKind.quote, "\"A fugitive is like a kite\"",
        "A fugitive is like a kite. Even though he is abroad, the string is held in China. He can always be found "
        "through his family.", SD_REVIEW, data={"speaker": "Li Gongjing, Shanghai police officer"},
        tags=["involuntary-returns", "quote"]),
    DemoEvidence(
        "quote-liu-dong", EvidenceKind.quote, "Fox Hunt's director: with or without an agreement",
        "Our principle is thus: whether or not there is an agreement in place, as long as there is information that "
        "there is a criminal suspect, we will chase them over there, we will take our work to them, anywhere.",
        SD_REVIEW, data={"speaker": "Liu Dong, former director of Operation Fox Hunt"},
        tags=["fox-hunt", "extradition", "quote"]),
    DemoEvidence(
        "quote-richardson-interpol", EvidenceKind.quote, "Human Rights Watch on China and Interpol",
        "China has already shown a propensity for using Interpol to its own ends, sometimes in violation of "
        "Interpol's principles and practices.", PACIFIC_STANDARD,
        data={"speaker": "Sophie Richardson, China director, Human Rights Watch"}, tags=["interpol", "quote"],
        people=["richardson"], events=["Human Rights Watch asks Interpol to stop China's red notice abuse"]),
    DemoEvidence(
        "quote-demers-repatriation-squads", EvidenceKind.quote, "US Department of Justice on repatriation squads",
        "Without coordination with our government, China's repatriation squads enter the United States, surveil and "
        "locate the alleged fugitives, and deploy intimidation and other tactics to force them back into China where "
        "they would face certain imprisonment or worse following illegitimate trials.", SD_REVIEW,
        data={"speaker": "John C. Demers, US Assistant Attorney General (October 2020)"},
        tags=["fox-hunt", "quote"], events=["US charges eight people over a Fox Hunt intimidation plot"]),
    DemoEvidence(
        "involuntary-returns-report", EvidenceKind.document, "Involuntary Returns (Safeguard Defenders, 2022)",
        "Safeguard Defenders' report on Sky Net's \"voluntary\" returns: three types of involuntary return (threats "
        "to family in China, agents sent abroad, kidnappings), drawn from 62 cases of which only half succeeded. It "
        "asks parliaments to question governments and calls for the suspension of extradition treaties with China.",
        INVOLUNTARY_RETURNS, tags=["involuntary-returns", "report"], people=["harth"],
        events=["Safeguard Defenders publishes Involuntary Returns"]),
    DemoEvidence(
        "ep-resolution-2022-06-09", EvidenceKind.document, "European Parliament urgency resolution of 9 June 2022",
        "Adopted by an overwhelming majority after the Xinjiang Police Files: asks for sanctions on officials "
        "including Zhao Kezhi, Chen Quanguo, Guo Shengkun and Hu Lianhe; repeats the call to suspend extradition "
        "treaties with China and Hong Kong; asks EU institutions and member states to counter transnational "
        "repression.", EP_NOTE, tags=["sanctions", "extradition", "report"], people=["zhao"],
        events=["European Parliament urgency resolution calls for sanctions"]),
]


# --- loading ---------------------------------------------------------------------------------------------


@dataclass
class Loaded:
    asks: int = 0
    events: int = 0
    evidence: int = 0
    organizations: int = 0
    people: int = 0
    memberships: int = 0
    stances: int = 0
    campaign: bool = False

    def any(self) -> bool:
        return self.campaign or any((self.asks, self.events, self.evidence, self.organizations, self.people,
                                     self.memberships, self.stances))


def load(session: Session) -> str:
    """Load the demo campaign if it is not there yet; running it twice changes nothing."""
    loaded = Loaded()
    campaign = _campaign(session, loaded)
    asks = _asks(session, campaign, loaded)
    orgs, people = _contacts(session, loaded)
    events = _events(session, campaign, orgs, people, loaded)
    evidence = _evidence(session, campaign, events, people, loaded)
    _stances(session, asks, people, evidence, loaded)
    session.flush()
    letter_report = letters_demo.load(session, campaign)
    if not loaded.any():
        return f"The demo campaign \"{campaign.name}\" is already loaded; nothing changed. {letter_report}"
    return (f"Loaded the demo campaign \"{campaign.name}\" (/campaigns/{campaign.slug}): {loaded.asks} asks, "
            f"{loaded.events} events, {loaded.evidence} evidence items, {loaded.people} people, "
            f"{loaded.organizations} organisations, {loaded.memberships} memberships, {loaded.stances} stances. "
            f"{letter_report}")


def _campaign(session: Session, loaded: Loaded) -> Campaign:
    existing = session.exec(select(Campaign).where(Campaign.slug == CAMPAIGN_SLUG)).first()
    if existing is not None:
        return existing
    loaded.campaign = True
    return service.create_campaign(session, campaign_in=CampaignCreate(**CAMPAIGN), actor=ACTOR)


def _asks(session: Session, campaign: Campaign, loaded: Loaded) -> dict[str, Ask]:
    asks = {ask.slug: ask for ask in service.list_asks(session, campaign_id=campaign.id)}
    for slug, title, description in ASKS:
        if slug not in asks:
            asks[slug] = service.create_ask(session, campaign_id=campaign.id,
                                            ask_in=AskCreate(slug=slug, title=title, description=description),
                                            actor=ACTOR)
            loaded.asks += 1
    return asks


def _contacts(session: Session, loaded: Loaded) -> tuple[dict[str, int], dict[str, int]]:
    orgs: dict[str, int] = {}
    for org in ORGANIZATIONS:
        before = _organization_count(session)
        created = contacts_service.get_or_create_organization(
            session, name=org.name, classification=org.classification, country=org.country,
            abbreviation=org.abbreviation, parent_id=orgs[org.parent] if org.parent else None)
        loaded.organizations += _organization_count(session) - before
        orgs[org.key] = created.id
    people: dict[str, int] = {}
    for contact in CONTACTS:
        identifier = (DEMO_SCHEME, contact.key)
        person_id = session.exec(select(Identifier.person_id).where(Identifier.scheme == DEMO_SCHEME,
                                                                    Identifier.value == contact.key)).first()
        if person_id is None:
            fields = {name: getattr(contact, name) for name in ("given_name", "family_name", "honorific_prefix",
                                                                "honorific_suffix", "birth_date", "notes")
                      if getattr(contact, name)}
            person = contacts_service.upsert_person(
                session, name=contact.name, identifiers=[identifier], actor=ACTOR,
                match_organization_id=orgs[contact.memberships[0][0]] if contact.memberships else None, **fields)
            person_id = person.id
            loaded.people += 1
        people[contact.key] = person_id
        for org_key, role, party_key, start in contact.memberships:
            exists = session.exec(select(Membership.id).where(
                Membership.person_id == person_id, Membership.organization_id == orgs[org_key],
                Membership.role == role)).first()
            if exists is None:
                contacts_service.add_membership(session, person_id=person_id, organization_id=orgs[org_key],
                                                role=role, start_date=start,
                                                on_behalf_of_id=orgs[party_key] if party_key else None)
                loaded.memberships += 1
    return orgs, people


def _organization_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Organization)).one()


def _events(session: Session, campaign: Campaign, orgs: dict[str, int], people: dict[str, int],
            loaded: Loaded) -> dict[str, int]:
    existing = {(event.kind, event.title): event.id for event in service.list_events(session, campaign_id=campaign.id)}
    ids: dict[str, int] = {}
    for item in EVENTS:
        key = (item.kind, item.title)
        if key not in existing:
            event = service.create_event(session, campaign_id=campaign.id, actor=ACTOR, event_in=EventCreate(
                kind=item.kind, title=item.title, start=item.start, end=item.end, place=item.place,
                summary=item.summary, sources=item.sources, person_ids=[people[key] for key in item.people],
                organization_ids=[orgs[key] for key in item.organizations]))
            existing[key] = event.id
            loaded.events += 1
        ids[item.title] = existing[key]
    return ids


def _evidence(session: Session, campaign: Campaign, events: dict[str, int], people: dict[str, int],
              loaded: Loaded) -> dict[str, int]:
    existing = {item.slug: item.id for item in service.list_evidence(session, campaign_id=campaign.id)}
    for item in EVIDENCE:
        if item.slug in existing:
            continue
        source = {"reliability_notes": "", **item.source}
        if item.notes:
            source["reliability_notes"] = " ".join(part for part in (item.notes, source["reliability_notes"]) if part)
        if item.source_url:
            source["source_url"] = item.source_url
        created = service.create_evidence(session, campaign_id=campaign.id, actor=ACTOR, evidence_in=EvidenceCreate(
            slug=item.slug, kind=item.kind, title=item.title, text=item.text, data=item.data, tags=item.tags,
            event_ids=[events[title] for title in item.events], person_ids=[people[key] for key in item.people],
            **source))
        existing[item.slug] = created.id
        loaded.evidence += 1
    return existing


def _stances(session: Session, asks: dict[str, Ask], people: dict[str, int], evidence: dict[str, int],
             loaded: Loaded) -> None:
    for contact in CONTACTS:
        for ask_slug, position, evidence_slug, note in contact.stances:
            person_id, ask_id = people[contact.key], asks[ask_slug].id
            # Any stance already recorded stands: the demo never overrides what users have logged since.
            if contacts_service.current_stances(session, person_ids=[person_id], ask_id=ask_id):
                continue
            contacts_service.record_stance(session, person_id=person_id, ask_id=ask_id, position=position,
                                           source_kind=StanceSource.evidence, source_evidence_id=evidence[evidence_slug],
                                           source_note=note, actor=ACTOR)
            loaded.stances += 1
