"""The demo letter: the parliamentarians' letter to the Prime Minister about Liu Jianchao's visit.

Re-created from the news report in the seeds as a template whose facts are cited from the
demo campaign's evidence, signed by the four parliamentarians the report names. The lead
calls ``load`` from campaign/demo.py after the campaign, contacts and evidence exist;
running it twice changes nothing.
"""

from __future__ import annotations

from sqlmodel import Session, select

from campaign.models import Campaign
from contacts.models import Identifier
from letters import service
from letters.models import Letter, LetterKind, LetterState, LetterTemplate
from letters.schemas import Addressee, LetterCreate, LetterTemplateCreate, LetterTransition

ACTOR = "demo"
DEMO_SCHEME = "cosign-demo"  # campaign/demo.py marks its contacts with this identifier scheme
TEMPLATE_SLUG = "pm-letter-liu-jianchao-visit"
LETTER_TITLE = "Cross-party letter to the Prime Minister on Liu Jianchao's visit"

SUBJECT = "The visit of Liu Jianchao, head of the International Department of the CPC Central Committee"

BODY = """{{ recipient.salutation }},

We write as a cross-party group of Members of both Houses of Parliament to say that we are appalled at the decision to allow this week's visit by Liu Jianchao, head of the International Department of the Central Committee of the Communist Party of China, who is due to speak at Chatham House and to meet parliamentarians. We urge you to reconsider it, and we question how someone with his record could have been granted a visa.

Between August 2015 and April 2017 Mr Liu headed the International Fugitive Recovery Office and directed the International Cooperation Bureau of the Central Commission for Discipline Inspection, with ultimate command of thousands of so-called international fugitive recovery operations and of the irregular methods used to bring people back to China{{ cite("liu-command-2015-2017") }}. Presented as a drive against corrupt officials, these operations have also targeted opponents of the regime. More than 9,000 Chinese fugitives or exiles are estimated to have been extracted from abroad{{ cite("extracted-from-abroad") }}, and records of the People's Republic of China show at least two people forcibly returned from the United Kingdom while Mr Liu led these operations{{ cite("uk-cases") }}. Formal extradition plays almost no part in them:

{{ evidence("skynet-return-methods-2018") }}

Mr Liu also helped to design liuzhi, the Commission's system of incommunicado detention outside any judicial oversight, which institutionalises enforced disappearance, arbitrary detention and torture. Speaking of it, he said:

{{ evidence("quote-liu-liuzhi") }}

Safeguard Defenders estimates that at least 16 to 76 people are placed in liuzhi every day{{ cite("liuzhi-daily-estimate") }}. As Secretary of the Zhejiang Commission for Discipline Inspection he commanded its use in that province, and as a member of the 20th Central Committee he continues to bear oversight responsibility for it nationwide. The European Court of Human Rights has since held that returning a person to China would expose them to an irreparable risk of ill-treatment{{ cite("liu-v-poland") }}.

We acknowledge that diplomacy requires meeting people with whom one disagrees, and that this visit has not been sponsored by His Majesty's Government. But a line is crossed when someone with his human rights background is afforded such a platform{{ cite("quote-line-crossed") }}.

We therefore ask you to reconsider the decision to allow this visit, to explain how Mr Liu was granted a visa, and to tell the House how the Government monitors and counters these operations in the United Kingdom.

Yours sincerely,"""

PRIME_MINISTER = Addressee(name="Rishi Sunak", given_name="Rishi", family_name="Sunak", honorific_prefix="The Rt Hon",
                           honorific_suffix="MP", office="Prime Minister",
                           address_lines=["10 Downing Street", "London SW1A 2AA"])

# (demo contact key, printed name, printed title) as the signers would confirm them.
SIGNATORIES = [
    ("champion", "Sarah Champion MP", "Chair, International Development Committee"),
    ("loughton", "Tim Loughton MP", ""),
    ("carmichael", "Alistair Carmichael MP", ""),
    ("alton", "Lord Alton of Liverpool", ""),
]


def _template(session: Session) -> LetterTemplate:
    service.load_default_templates(session)
    found = session.exec(select(LetterTemplate).where(LetterTemplate.slug == TEMPLATE_SLUG)).first()
    if found is not None:
        return found
    return service.create_template(session, actor=ACTOR, template_in=LetterTemplateCreate(
        slug=TEMPLATE_SLUG, kind=LetterKind.head_of_government, name="Letter to the Prime Minister on Liu Jianchao",
        description="The cross-party letter of MPs and peers, coordinated by IPAC, as reported in the seeds.",
        subject=SUBJECT, body=BODY))


def _person_id(session: Session, key: str) -> int | None:
    return session.exec(select(Identifier.person_id).where(Identifier.scheme == DEMO_SCHEME,
                                                           Identifier.value == key)).first()


def load(session: Session, campaign: Campaign) -> str:
    """Create the template and the letter with its four signatories, closed for signing and ready to schedule."""
    template = _template(session)
    existing = session.exec(select(Letter).where(Letter.campaign_id == campaign.id,
                                                 Letter.title == LETTER_TITLE)).first()
    if existing is not None:
        return f"The demo letter is already there (/letters/{existing.id}); nothing changed."
    letter = service.create_letter(session, actor=ACTOR, letter_in=LetterCreate(
        campaign_id=campaign.id, title=LETTER_TITLE, template_id=template.id, addressees=[PRIME_MINISTER],
        sender_name="Inter-Parliamentary Alliance on China",
        sender_organisation="Inter-Parliamentary Alliance on China", publish=True))
    staff = _Staff()
    for state in (LetterState.in_review, LetterState.approved, LetterState.open_for_signatures):
        service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(to=state))
    signed = 0
    for key, printed_name, printed_title in SIGNATORIES:
        person_id = _person_id(session, key)
        if person_id is not None:
            service.record_signature(session, letter_id=letter.id, person_id=person_id, printed_name=printed_name,
                                     printed_title=printed_title, actor=ACTOR)
            signed += 1
    service.transition(session, letter_id=letter.id, actor=staff,
                       transition_in=LetterTransition(to=LetterState.signatures_closed))
    return f"Loaded the demo letter to the Prime Minister (/letters/{letter.id}) with {signed} signatories."


class _Staff:
    """The demo loader acts as staff for the review steps (it has no account)."""

    id = None
    email = ACTOR

    @property
    def role(self):
        from campaign.accounts.models import Role

        return Role.staff
