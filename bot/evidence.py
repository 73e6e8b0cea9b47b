"""Which topic a question is about: the evidence of its words, weighed.

A topic's terms are its name and its keywords, matched by word stems, so "screened" finds the keyword
"screening" and "reports" the topic "Safety reporting". A term counts for what it tells apart:

- an acronym (SAE, SUSAR, IRB) counts 2, a keyword of several words one for each word it matches;
- a single word that other topics' terms also use ("protocol" in "protocol deviation") counts half;
- a word no topic uses, of five letters or more, one typo away from a term's word ("saftey", "budjet";
  two for words of eight or more) counts three quarters of that term;
- words people taught Cadence for a topic (picked it for a question, or said Not mine) count half their
  learned weight, for or against;
- a word for the study's participants (patient, subject, panelist, volunteer) says whom a question is
  about, not what: alone as a term it counts half;
- a lay word for what happens to a participant ("rash", "itchy", "hospitalised") counts for a topic whose
  single-word terms name it in the study's words ("skin", "irritation", "adverse"): three quarters for a
  close word, half for a broader one.

A word counts once per topic, for its best term; several hits add up. Only a tie is a tie.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import snowballstemmer
from rapidfuzz.distance import DamerauLevenshtein

from bot.directory import TopicOwners

ACRONYM = 2.0
SHARED = 0.5
TYPO = 0.75
LEARNED = 0.5
LEARN_STEP, LEARN_CAP = 1.0, 3.0

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_STEMMER = snowballstemmer.stemmer("english")
# Words that say nothing about a topic: they neither count as evidence nor are learned.
STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can could did do
    does doing done due for from get got had has have having he her here hers him his how i if in into is
    it its just know let me more most much my need needs no not now of on once only or other our ours out
    over please same she should so some still such than that the their them then there these they this
    those through to too under until up us very was we were what when where which while who whom why will
    with would yet you your yours week weeks today tomorrow yesterday many far next last
    talk talking speak ask asking tell gets getting happen happens happened someone somebody anyone anybody
    whoever hi hello hey thanks""".split()
)
# Words for the study's participants: every topic concerns them, so alone they tell topics apart little.
PARTICIPANT = 0.5
_PARTICIPANTS = frozenset(
    "patient patients subject subjects participant participants panelist panelists panellist panellists "
    "volunteer volunteers".split()
)
CLOSE, BROAD = 0.75, 0.5
# Lay words for what can happen to a participant -> the study's words for it: close ones, broader ones.
_SKIN = ("skin", "irritation", "erythema", "dermatitis", "tolerance", "dermatology", "dermatologist")
_HARM = ("adverse", "ae", "sae", "safety", "reaction", "reactions", "pharmacovigilance")
_LAY_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **dict.fromkeys(
        "rash rashes redness itch itching itchy burning stinging swelling swollen blister blisters hives "
        "peeling flaking dryness irritated sore".split(),
        (_SKIN, _HARM),
    ),
    **dict.fromkeys(
        "sick ill unwell hospital hospitalised hospitalized died death allergic allergy fainted".split(),
        (_HARM, ()),
    ),
}


_PARTICIPANT_STEMS = frozenset(_STEMMER.stemWords(sorted(_PARTICIPANTS)))


@dataclass(frozen=True)
class Evidence:
    topic: TopicOwners
    score: float
    terms: tuple[str, ...]  # what counted: plan terms and learned words, as the plan or the asker wrote them


@dataclass(frozen=True)
class _Term:
    label: str
    stems: tuple[str, ...]
    weight: float
    word: str | None = None  # a single-word term as written (folded), for typos of it


def words(text: str) -> list[str]:
    return _WORD.findall(text)


@functools.lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.casefold().replace("’", "'"))


def content_stems(text: str) -> list[str]:
    """The stems of a question's words that could tell topics apart (no stop words, no numbers)."""
    return [stem(w) for w in words(text) if w.casefold() not in STOP_WORDS and not w.isdigit() and len(w) > 1]


def weigh(text: str, topics: Iterable[TopicOwners]) -> list[Evidence]:
    """Every topic the question's words point to, best first (topics with no evidence are left out)."""
    topics = tuple(topics)
    question = [stem(w) for w in words(text)]
    plain = [w.casefold() for w in words(text)]
    terms = _terms(topics)
    known = {s for own in terms.values() for term in own for s in term.stems}
    typos = [i for i, word in enumerate(plain) if question[i] not in known and _typo_candidate(word)]
    found = [_evidence(topic, terms[topic.topic], question, plain, typos) for topic in topics]
    return sorted((e for e in found if e.score > 0), key=lambda e: -e.score)


def _typo_candidate(word: str) -> bool:
    return len(word) >= 5 and word not in STOP_WORDS and not word.isdigit()


def one_typo_away(word: str, term: str) -> bool:
    allowed = 1 if len(term) < 8 else 2
    return abs(len(word) - len(term)) <= allowed and DamerauLevenshtein.distance(word, term) <= allowed


def best(ranked: list[Evidence]) -> Evidence | None:
    """The one topic the evidence points to; None when nothing fits or the top is a tie."""
    if not ranked or (len(ranked) > 1 and ranked[1].score >= ranked[0].score):
        return None
    return ranked[0]


def ties(ranked: list[Evidence]) -> tuple[TopicOwners, ...]:
    return tuple(e.topic for e in ranked if ranked and e.score >= ranked[0].score)


def learned(weights: dict[str, float], text: str, *, plan_stems: set[str], toward: bool) -> dict[str, float]:
    """A topic's learned words after a question's words led toward it (picked) or away (Not mine). The
    plan's own terms are never learned nor unlearned: the plan says what they mean."""
    after = dict(weights)
    step = LEARN_STEP if toward else -LEARN_STEP
    for word in set(content_stems(text)) - plan_stems:
        value = max(-LEARN_CAP, min(LEARN_CAP, after.get(word, 0.0) + step))
        if value:
            after[word] = value
        else:
            after.pop(word, None)
    return after


def plan_stems(topic: TopicOwners) -> set[str]:
    return {s for label in (topic.topic, *topic.keywords) for s in (stem(w) for w in words(label))}


def _terms(topics: tuple[TopicOwners, ...]) -> dict[str, tuple[_Term, ...]]:
    labels = {t.topic: _labels(t) for t in topics}
    used_by: dict[str, set[str]] = {}
    for topic, own in labels.items():
        for label in own:
            for word in words(label):
                used_by.setdefault(stem(word), set()).add(topic)
    result = {}
    for topic, own in labels.items():
        terms = []
        for label in own:
            stems = tuple(stem(w) for w in words(label) if w.casefold() not in STOP_WORDS)
            if not stems:
                continue
            if len(stems) > 1:
                weight = float(len(stems))
            elif label.isupper() and len(label) >= 2:
                weight = ACRONYM
            else:
                weight = SHARED if len(used_by.get(stems[0], ())) > 1 else 1.0
                if stems[0] in _PARTICIPANT_STEMS:
                    weight = min(weight, PARTICIPANT)
            word = label.casefold() if len(stems) == 1 and len(words(label)) == 1 else None
            terms.append(_Term(label, stems, weight, word))
        result[topic] = tuple(sorted(terms, key=lambda t: (-len(t.stems), -t.weight)))
    return result


def _labels(topic: TopicOwners) -> list[str]:
    # The topic's name counts whole ("Site monitoring") and word by word ("monitoring" alone).
    return [topic.topic, *topic.keywords, *words(topic.topic)]


def _evidence(
    topic: TopicOwners, terms: tuple[_Term, ...], question: list[str], plain: list[str], typos: list[int]
) -> Evidence:
    used: set[int] = set()
    score, counted = 0.0, []
    for term in terms:
        at = _find(term.stems, question, used)
        if at is not None:
            used.update(range(at, at + len(term.stems)))
            score += term.weight
            counted.append(term.label)
    for term in terms:
        if term.word is None or len(term.word) < 5:
            continue
        for i in typos:
            if i not in used and one_typo_away(plain[i], term.word):
                used.add(i)
                score += term.weight * TYPO
                counted.append(term.label)
                break
    for i, word in enumerate(plain):
        if i in used or word not in _LAY_WORDS:
            continue
        weight, label = _lay_word(word, terms)
        if weight:
            used.add(i)
            score += weight
            counted.append(label)
    for i, word in enumerate(question):
        if i not in used and (weight := topic.learned.get(word)):
            used.add(i)
            score += weight * LEARNED
            counted.append(plain[i])
    return Evidence(topic, round(score, 3), tuple(counted))


def _lay_word(word: str, terms: tuple[_Term, ...]) -> tuple[float, str]:
    """What a lay word ("rash") counts for a topic: its best single-word term the word points to."""
    close, broad = (_lay_stems(words) for words in _LAY_WORDS[word])
    best, label = 0.0, ""
    for term in terms:
        if len(term.stems) != 1:
            continue
        factor = CLOSE if term.stems[0] in close else BROAD if term.stems[0] in broad else 0.0
        weight = min(term.weight, 1.0) * factor  # an acronym's double weight is for the acronym itself
        if weight > best:
            best, label = weight, term.label
    return best, label


@functools.lru_cache(maxsize=64)
def _lay_stems(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


def _find(stems: tuple[str, ...], question: list[str], used: set[int]) -> int | None:
    size = len(stems)
    for at in range(len(question) - size + 1):
        if tuple(question[at : at + size]) == stems and not used.intersection(range(at, at + size)):
            return at
    return None
