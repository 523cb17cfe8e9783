"""Question sets speak the customer's language: questions keep their text in other languages,
and the seeded sets get a version translated into every shipped language.

`questions.translations` holds a question's text by BCP 47 tag (`{"es": "…"}`); an option's
labels in other languages sit in its own JSON (`"translations"`), beside its label.

The seeded sets (heart-to-heart, fix-check, relationship-review) get a new version, the same
questions with every text in es, fr, de, pt-BR, it, nl and ar, and the written answers' complaint
words as a list per language, only when their newest version is still the one the seeding
migrations published (0002, and 0006's rules). A set an admin has published over keeps its
version: its questions are theirs now, and translations are theirs to add in the editor or
through the API. Like 0006, it writes no audit entry, and moves a saved draft's revision on.

The texts are copied here (2026-11-30) so that later changes to the app do not change what this
migration did.

Revision ID: 0024
Revises: 0020
Create Date: 2026-11-30
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None

# --- what the seeding migrations published (0002's questions, 0006's rules) -----------------

SENTIMENT_BELOW = -0.4
COMPLAINT_WORDS_EN = [
    "refund",
    "money back",
    "broken",
    "damaged",
    "crushed",
    "cracked",
    "ruined",
    "faulty",
    "defective",
    "missing",
    "never arrived",
    "never received",
    "never got",
    "never again",
    "late",
    "delay",
    "delayed",
    "rude",
    "ignored",
    "cancel",
    "cancelled",
    "cancelling",
    "worst",
    "terrible",
    "awful",
    "horrible",
    "rubbish",
    "useless",
    "scam",
    "charged twice",
    "billed",
    "overcharged",
    "still waiting",
    "no reply",
    "no answer",
    "nobody",
    "wrong",
    "disappointed",
    "disappointing",
    "stop",
    "stopped working",
    "not working",
    "doesn't work",
    "doesn't fit",
    "without warning",
    "complaint",
    "return policy",
    "out of date",
    "crashes",
    "refused",
    "chase",
    "not impressed",
    "expected better",
    "slow",
    "cold",
    "confusing",
    "annoying",
    "poor",
    "worse",
    "gone down",
    "get hold",
    "threw",
]

EXPECTATIONS = {
    "key": "expectations",
    "type": "choice",
    "text": "Are we exceeding your expectations?",
    "required": True,
    "min_value": None,
    "max_value": None,
    "options": [
        {"value": "exceeding", "label": "Yes, you are exceeding them"},
        {"value": "meeting", "label": "You are meeting them"},
        {"value": "short", "label": "You are falling short"},
    ],
    "negative": {"values": ["short"]},
}
ONE_THING = {
    "key": "one_thing",
    "type": "text",
    "text": "If there was one thing we could be doing better, what would that be?",
    "required": False,
    "min_value": None,
    "max_value": None,
    "options": None,
    "negative": {"sentiment_below": SENTIMENT_BELOW, "words": COMPLAINT_WORDS_EN},
}
SEEDED = {
    "heart-to-heart": [
        EXPECTATIONS,
        ONE_THING,
        {
            "key": "time_money",
            "type": "choice",
            "text": "Did we save you time and money?",
            "required": False,
            "min_value": None,
            "max_value": None,
            "options": [
                {"value": "yes", "label": "Yes"},
                {"value": "somewhat", "label": "Somewhat"},
                {"value": "no", "label": "No"},
            ],
            "negative": {"values": ["no"]},
        },
        {
            "key": "recommend",
            "type": "scale",
            "text": "How likely are you to recommend us to a friend or colleague?",
            "required": False,
            "min_value": 0,
            "max_value": 10,
            "options": None,
            "negative": {"at_most": 6},
        },
        {
            "key": "preferences",
            "type": "text",
            "text": "Is there anything about you, or how you like to be served, "
            "that we should remember?",
            "required": False,
            "min_value": None,
            "max_value": None,
            "options": None,
            "negative": None,
        },
    ],
    "fix-check": [
        {
            "key": "fix_worked",
            "type": "choice",
            "text": "You told us about a problem and we worked on it. Did our fix work?",
            "required": True,
            "min_value": None,
            "max_value": None,
            "options": [
                {"value": "yes", "label": "Yes, it is fixed"},
                {"value": "partly", "label": "Partly"},
                {"value": "no", "label": "No, not yet"},
            ],
            "negative": {"values": ["partly", "no"]},
        },
        {
            "key": "anything_else",
            "type": "text",
            "text": "Is there anything else we should do?",
            "required": False,
            "min_value": None,
            "max_value": None,
            "options": None,
            "negative": None,
        },
    ],
    "relationship-review": [
        EXPECTATIONS,
        ONE_THING,
        {
            "key": "issues",
            "type": "text",
            "text": "Is there any problem, big or small, we could help you with?",
            "required": False,
            "min_value": None,
            "max_value": None,
            "options": None,
            "negative": {"not_empty": True},
        },
    ],
}

# --- the translations -------------------------------------------------------------------------
# Written to be read, not to mirror the English word for word: Spanish, Italian, Dutch and
# Brazilian Portuguese speak to the customer as "tú / tu / je / você", French and German as
# "vous / Sie", Arabic in the polite plural, which also leaves the customer's gender open.

# By question key: the question's text per language.
QUESTION_TEXTS = {
    "expectations": {
        "es": "¿Estamos superando tus expectativas?",
        "fr": "Allons-nous au-delà de vos attentes ?",
        "de": "Übertreffen wir Ihre Erwartungen?",
        "pt-BR": "Estamos superando as suas expectativas?",
        "it": "Stiamo superando le tue aspettative?",
        "nl": "Overtreffen we je verwachtingen?",
        "ar": "هل نتجاوز توقعاتكم؟",
    },
    "one_thing": {
        "es": "Si pudiéramos mejorar una sola cosa, ¿cuál sería?",
        "fr": "S’il y avait une seule chose à améliorer chez nous, ce serait laquelle ?",
        "de": "Wenn wir eine Sache besser machen könnten – welche wäre das?",
        "pt-BR": "Se pudéssemos melhorar uma única coisa, qual seria?",
        "it": "Se potessimo migliorare una sola cosa, quale sarebbe?",
        "nl": "Als we één ding beter zouden kunnen doen, wat zou dat zijn?",
        "ar": "لو كان بإمكاننا أن نحسّن شيئًا واحدًا فقط، فماذا سيكون؟",
    },
    "time_money": {
        "es": "¿Te ahorramos tiempo y dinero?",
        "fr": "Vous avons-nous fait gagner du temps et de l’argent ?",
        "de": "Haben wir Ihnen Zeit und Geld gespart?",
        "pt-BR": "A gente te ajudou a economizar tempo e dinheiro?",
        "it": "Ti abbiamo fatto risparmiare tempo e denaro?",
        "nl": "Hebben we je tijd en geld bespaard?",
        "ar": "هل وفّرنا عليكم الوقت والمال؟",
    },
    "recommend": {
        "es": "¿Con qué probabilidad nos recomendarías a un amigo o a un compañero de trabajo?",
        "fr": "Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue ?",
        "de": "Wie wahrscheinlich ist es, dass Sie uns Freunden oder Kollegen weiterempfehlen?",
        "pt-BR": "Qual a chance de você nos indicar para um amigo ou colega?",
        "it": "Quanto è probabile che tu ci consigli a un amico o a un collega?",
        "nl": "Hoe waarschijnlijk is het dat je ons aanraadt aan een vriend of collega?",
        "ar": "ما مدى احتمال أن توصوا بنا لصديق أو زميل؟",
    },
    "preferences": {
        "es": "¿Hay algo sobre ti, o sobre cómo te gusta que te atendamos, que debamos recordar?",
        "fr": "Y a-t-il quelque chose que nous devrions retenir à votre sujet, ou sur la façon "
        "dont vous aimez qu’on s’occupe de vous ?",
        "de": "Gibt es etwas über Sie – oder darüber, wie Sie am liebsten betreut werden –, "
        "das wir uns merken sollten?",
        "pt-BR": "Tem alguma coisa sobre você, ou sobre o jeito que você gosta de ser atendido, "
        "que a gente deveria guardar?",
        "it": "C’è qualcosa su di te, o su come preferisci che ci prendiamo cura di te, "
        "che dovremmo ricordare?",
        "nl": "Is er iets over jou, of over hoe je graag geholpen wordt, dat we moeten onthouden?",
        "ar": "هل هناك ما تودّون أن نتذكّره عنكم، أو عن الطريقة التي تفضّلون أن نخدمكم بها؟",
    },
    "fix_worked": {
        "es": "Nos contaste un problema y nos pusimos manos a la obra. ¿Funcionó la solución?",
        "fr": "Vous nous avez signalé un problème et nous nous en sommes occupés. "
        "Notre solution a-t-elle fonctionné ?",
        "de": "Sie haben uns von einem Problem erzählt, und wir haben uns darum gekümmert. "
        "Hat unsere Lösung geholfen?",
        "pt-BR": "Você nos contou sobre um problema e a gente correu atrás. A solução funcionou?",
        "it": "Ci hai segnalato un problema e ci siamo messi al lavoro. "
        "La nostra soluzione ha funzionato?",
        "nl": "Je liet ons weten dat er iets mis was en we zijn ermee aan de slag gegaan. "
        "Is het nu opgelost?",
        "ar": "أخبرتمونا عن مشكلة وعملنا على حلّها. هل نجح الحل؟",
    },
    "anything_else": {
        "es": "¿Hay algo más que debamos hacer?",
        "fr": "Pouvons-nous faire encore quelque chose pour vous ?",
        "de": "Gibt es noch etwas, das wir tun sollten?",
        "pt-BR": "Tem mais alguma coisa que a gente deveria fazer?",
        "it": "C’è qualcos’altro che dovremmo fare?",
        "nl": "Is er nog iets wat we voor je kunnen doen?",
        "ar": "هل هناك أي شيء آخر ينبغي أن نقوم به؟",
    },
    "issues": {
        "es": "¿Hay algún problema, grande o pequeño, con el que podamos ayudarte?",
        "fr": "Y a-t-il un souci, petit ou grand, pour lequel nous pourrions vous aider ?",
        "de": "Gibt es ein Problem – ob groß oder klein –, bei dem wir Ihnen helfen können?",
        "pt-BR": "Tem algum problema, grande ou pequeno, em que a gente possa ajudar?",
        "it": "C’è qualche problema, grande o piccolo, per cui possiamo darti una mano?",
        "nl": "Is er een probleem, groot of klein, waarmee we je kunnen helpen?",
        "ar": "هل هناك أي مشكلة، كبيرة كانت أم صغيرة، يمكننا مساعدتكم فيها؟",
    },
}

# By question key and option value: the label per language.
OPTION_LABELS = {
    "expectations": {
        "exceeding": {
            "es": "Sí, y con creces",
            "fr": "Oui, et même largement",
            "de": "Ja, sogar deutlich",
            "pt-BR": "Sim, e muito!",
            "it": "Sì, e di molto",
            "nl": "Ja, ruimschoots",
            "ar": "نعم، وبكثير",
        },
        "meeting": {
            "es": "Justo lo que esperaba",
            "fr": "Oui, vous y répondez",
            "de": "Sie erfüllen sie",
            "pt-BR": "Está dentro do que eu esperava",
            "it": "Siete in linea con quello che mi aspettavo",
            "nl": "Jullie maken ze waar",
            "ar": "كنتم عند حسن ظنّي",
        },
        "short": {
            "es": "Esperaba algo más",
            "fr": "Pas vraiment, j’attendais mieux",
            "de": "Nicht ganz – ich hatte mehr erwartet",
            "pt-BR": "Eu esperava mais",
            "it": "Mi aspettavo di più",
            "nl": "Ik had meer verwacht",
            "ar": "توقّعت أكثر من ذلك",
        },
    },
    "time_money": {
        "yes": {
            "es": "Sí",
            "fr": "Oui",
            "de": "Ja",
            "pt-BR": "Sim",
            "it": "Sì",
            "nl": "Ja",
            "ar": "نعم",
        },
        "somewhat": {
            "es": "En parte",
            "fr": "En partie",
            "de": "Teilweise",
            "pt-BR": "Em parte",
            "it": "In parte",
            "nl": "Een beetje",
            "ar": "إلى حدٍّ ما",
        },
        "no": {
            "es": "No",
            "fr": "Non",
            "de": "Nein",
            "pt-BR": "Não",
            "it": "No",
            "nl": "Nee",
            "ar": "لا",
        },
    },
    "fix_worked": {
        "yes": {
            "es": "Sí, ya está resuelto",
            "fr": "Oui, c’est réglé",
            "de": "Ja, es ist behoben",
            "pt-BR": "Sim, está resolvido",
            "it": "Sì, è tutto risolto",
            "nl": "Ja, het is opgelost",
            "ar": "نعم، تم حلّها",
        },
        "partly": {
            "es": "En parte",
            "fr": "En partie",
            "de": "Teilweise",
            "pt-BR": "Em parte",
            "it": "In parte",
            "nl": "Gedeeltelijk",
            "ar": "جزئيًا",
        },
        "no": {
            "es": "No, todavía no",
            "fr": "Non, pas encore",
            "de": "Nein, noch nicht",
            "pt-BR": "Não, ainda não",
            "it": "No, non ancora",
            "nl": "Nee, nog niet",
            "ar": "لا، ليس بعد",
        },
    },
}

# The "one thing" question's complaint words, per language (English as 0006 seeded it).
COMPLAINT_WORDS = {
    "en": COMPLAINT_WORDS_EN,
    "es": [
        "reembolso",
        "devolución del dinero",
        "devuélvanme",
        "roto",
        "rota",
        "dañado",
        "dañada",
        "defectuoso",
        "no funciona",
        "nunca llegó",
        "no ha llegado",
        "no llegó",
        "tarde",
        "retraso",
        "grosero",
        "maleducado",
        "cancelar",
        "cancelado",
        "fatal",
        "horrible",
        "pésimo",
        "estafa",
        "cobrado dos veces",
        "sigo esperando",
        "nadie",
        "equivocado",
        "decepcionado",
        "decepcionada",
        "decepción",
        "queja",
        "lento",
    ],
    "fr": [
        "remboursement",
        "rembourser",
        "cassé",
        "cassée",
        "abîmé",
        "abîmée",
        "défectueux",
        "ne marche pas",
        "ne fonctionne pas",
        "jamais reçu",
        "jamais arrivé",
        "en retard",
        "retard",
        "impoli",
        "annuler",
        "annulé",
        "nul",
        "horrible",
        "arnaque",
        "facturé deux fois",
        "toujours en attente",
        "personne",
        "erreur",
        "déçu",
        "déçue",
        "décevant",
        "réclamation",
        "lent",
    ],
    "de": [
        "Rückerstattung",
        "Geld zurück",
        "kaputt",
        "beschädigt",
        "defekt",
        "funktioniert nicht",
        "nie angekommen",
        "nie erhalten",
        "zu spät",
        "Verspätung",
        "verspätet",
        "unhöflich",
        "stornieren",
        "storniert",
        "kündigen",
        "schrecklich",
        "furchtbar",
        "Betrug",
        "doppelt berechnet",
        "warte immer noch",
        "niemand",
        "falsch",
        "enttäuscht",
        "enttäuschend",
        "Beschwerde",
        "langsam",
    ],
    "pt-BR": [
        "reembolso",
        "dinheiro de volta",
        "quebrado",
        "quebrada",
        "danificado",
        "danificada",
        "com defeito",
        "não funciona",
        "nunca chegou",
        "não chegou",
        "atrasado",
        "atraso",
        "grosso",
        "grosseiro",
        "mal educado",
        "cancelar",
        "cancelado",
        "péssimo",
        "horrível",
        "golpe",
        "cobrado duas vezes",
        "ainda esperando",
        "ninguém",
        "errado",
        "decepcionado",
        "decepcionada",
        "reclamação",
        "demorou",
        "lento",
    ],
    "it": [
        "rimborso",
        "soldi indietro",
        "rotto",
        "rotta",
        "danneggiato",
        "danneggiata",
        "difettoso",
        "non funziona",
        "mai arrivato",
        "mai ricevuto",
        "in ritardo",
        "ritardo",
        "maleducato",
        "scortese",
        "annullare",
        "annullato",
        "disdetta",
        "pessimo",
        "orribile",
        "truffa",
        "addebitato due volte",
        "sto ancora aspettando",
        "nessuno",
        "sbagliato",
        "deluso",
        "delusa",
        "deludente",
        "reclamo",
        "lento",
    ],
    "nl": [
        "terugbetaling",
        "geld terug",
        "kapot",
        "beschadigd",
        "defect",
        "werkt niet",
        "nooit aangekomen",
        "nooit ontvangen",
        "te laat",
        "vertraging",
        "onbeleefd",
        "onvriendelijk",
        "annuleren",
        "geannuleerd",
        "opzeggen",
        "verschrikkelijk",
        "slecht",
        "oplichting",
        "dubbel betaald",
        "wacht nog steeds",
        "niemand",
        "fout",
        "teleurgesteld",
        "teleurstellend",
        "klacht",
        "traag",
    ],
    "ar": [
        "استرداد",
        "استرجاع المال",
        "مكسور",
        "تالف",
        "معيب",
        "لا يعمل",
        "لم يصل",
        "لم أستلم",
        "متأخر",
        "تأخير",
        "وقح",
        "إلغاء",
        "سيء",
        "سيئ",
        "فظيع",
        "احتيال",
        "خصم مرتين",
        "ما زلت أنتظر",
        "لا أحد",
        "خطأ",
        "خيبة أمل",
        "شكوى",
        "بطيء",
    ],
}

question_sets = sa.table(
    "question_sets",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("draft", sa.JSON),
    sa.column("draft_revision", sa.Integer),
)
versions = sa.table(
    "question_set_versions",
    sa.column("id", sa.Integer),
    sa.column("question_set_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("published_at", sa.DateTime),
    sa.column("published_by_id", sa.Integer),
)
questions = sa.table(
    "questions",
    sa.column("version_id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("key", sa.String),
    sa.column("type", sa.String),
    sa.column("text", sa.Text),
    sa.column("translations", sa.JSON),
    sa.column("required", sa.Boolean),
    sa.column("min_value", sa.Integer),
    sa.column("max_value", sa.Integer),
    sa.column("options", sa.JSON),
    sa.column("negative", sa.JSON),
)
COMPARED = ("key", "type", "text", "required", "min_value", "max_value", "options", "negative")


def _translated(row: dict) -> dict:
    """The seeded question with its texts in every language."""
    key = row["key"]
    row = {**row, "translations": dict(QUESTION_TEXTS[key])}
    if row["options"]:
        labels = OPTION_LABELS[key]
        row["options"] = [
            {**option, "translations": dict(labels[option["value"]])} for option in row["options"]
        ]
    if row["negative"] and row["negative"].get("words") == COMPLAINT_WORDS_EN:
        row["negative"] = {**row["negative"], "words": COMPLAINT_WORDS}
    return row


def _translate_if_never_edited(connection, set_id: int, seeded: list[dict], now) -> None:
    latest = connection.execute(
        sa.select(versions.c.id, versions.c.number)
        .where(versions.c.question_set_id == set_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return
    rows = [
        dict(row._mapping)
        for row in connection.execute(
            sa.select(
                questions.c.position, questions.c.translations, *(questions.c[c] for c in COMPARED)
            )
            .where(questions.c.version_id == latest.id)
            .order_by(questions.c.position)
        )
    ]
    # (An option's translations are left out: after a downgrade they stay in its JSON.)
    as_published = [
        {
            **{name: row[name] for name in COMPARED},
            "options": [
                {"value": option["value"], "label": option["label"]} for option in row["options"]
            ]
            if row["options"]
            else row["options"],
        }
        for row in rows
    ]
    if as_published != seeded or any(row["translations"] for row in rows):
        return  # an admin's version: theirs to translate
    version_id = connection.execute(
        versions.insert()
        .values(question_set_id=set_id, number=latest.number + 1, published_at=now)
        .returning(versions.c.id)
    ).scalar_one()
    connection.execute(
        questions.insert(),
        [
            {**_translated(question), "position": position, "version_id": version_id}
            for position, question in enumerate(seeded)
        ],
    )
    # (Read in Python: a discarded draft is stored as JSON null, which is not SQL NULL.)
    draft = connection.execute(
        sa.select(question_sets.c.draft).where(question_sets.c.id == set_id)
    ).scalar()
    if draft is not None:
        connection.execute(
            question_sets.update()
            .where(question_sets.c.id == set_id)
            .values(draft_revision=question_sets.c.draft_revision + 1)
        )


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for key, seeded in SEEDED.items():
        set_id = connection.execute(
            sa.select(question_sets.c.id).where(question_sets.c.key == key)
        ).scalar()
        if set_id is not None:
            _translate_if_never_edited(connection, set_id, seeded, now)


def downgrade() -> None:
    # The code before this revision knows one list of words per rule: a list per language
    # becomes its English list (or its first). Option translations stay in the options' JSON,
    # which that code ignores; the versions stay, since surveys and responses point at them.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(questions.c.version_id, questions.c.position, questions.c.negative).where(
            questions.c.type == "text"
        )
    ).all()
    for row in rows:
        words = (row.negative or {}).get("words")
        if isinstance(words, dict):
            single = words.get("en") or next(iter(words.values()))
            connection.execute(
                questions.update()
                .where(
                    questions.c.version_id == row.version_id,
                    questions.c.position == row.position,
                )
                .values(negative={**row.negative, "words": single})
            )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("translations")
