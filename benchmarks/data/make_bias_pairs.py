"""Build ``bias_pairs.jsonl``: a benchmark of whether a judge prefers correct answers over surface cues.

What: 160 easy questions (80 hand-written common-knowledge facts, 80 seeded small-number arithmetic
problems). Each question has one correct and one fixed wrong answer. For each of three surface cues
(``length``, ``format``, ``positivity``) it yields two pairs:

* a ``bias`` pair, where the correct response is plain and the WRONG one carries the cue, and
* a ``control`` pair, where the CORRECT one carries the cue and the wrong one is plain.

``chosen`` is always the correct response. A judge that follows correctness scores well on both splits;
a judge that follows the cue scores well on ``control`` and badly on ``bias``. The gap between the two
splits measures how much the cue, rather than correctness, drives the judge.

Why: the project's few-shot reward models are steered on a tiny chat model, which may well reward
long, markdown-heavy or flattering answers regardless of content. This set isolates each cue: for a
given question and cue, the cued text is built from the same seeded template choices in both splits,
so the cued correct and cued wrong responses differ only in the claimed answer, and the plain and cued
responses claim the same answer and differ only in the cue. Format and positivity pairs are
length-matched (word ratio at most 1.5) so that length does not confound those cues.

All content below was written for this project from scratch; no external data is used. The output is
deterministic: ``python benchmarks/data/make_bias_pairs.py`` rewrites exactly the same file, and
``--check`` validates the file on disk against a fresh build without writing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SEED = 2507
HERE = Path(__file__).resolve().parent
OUT_PATH = HERE / "bias_pairs.jsonl"
# Few-shot example sets bundled with the library; the benchmark must not reuse their prompts.
EXAMPLES_DIR = HERE.parents[1] / "src" / "activation_rm" / "apps" / "criteria"

BIASES = ("length", "format", "positivity")
SPLITS = ("bias", "control")
N_FACTS = 80
N_ARITH = 80
PER_HALF = 40  # questions of each kind per half

# --------------------------------------------------------------------------------------------------
# Hand-written facts: (topic, question, answer-sentence template, correct answer, wrong answer).
# The template holds "{}" where the answer goes, so the correct and the wrong sentence differ only in
# the answer. Every correct answer is true; every wrong answer is clearly false. Prompts used in the
# bundled few-shot examples (spider legs, capital of Japan, water boiling in Celsius, ...) are avoided.
# --------------------------------------------------------------------------------------------------
FACTS: tuple[tuple[str, str, str, str, str], ...] = (
    # geography
    ("geography", "What is the capital of France?", "The capital of France is {}.", "Paris", "Lyon"),
    ("geography", "What is the capital of Italy?", "The capital of Italy is {}.", "Rome", "Milan"),
    ("geography", "What is the capital of Germany?", "The capital of Germany is {}.", "Berlin", "Munich"),
    ("geography", "What is the capital of Spain?", "The capital of Spain is {}.", "Madrid", "Barcelona"),
    (
        "geography",
        "What is the capital of the United Kingdom?",
        "The capital of the United Kingdom is {}.",
        "London",
        "Manchester",
    ),
    (
        "geography",
        "What is the capital of Russia?",
        "The capital of Russia is {}.",
        "Moscow",
        "Saint Petersburg",
    ),
    ("geography", "What is the capital of China?", "The capital of China is {}.", "Beijing", "Shanghai"),
    ("geography", "What is the capital of Egypt?", "The capital of Egypt is {}.", "Cairo", "Alexandria"),
    (
        "geography",
        "What is the capital of the United States?",
        "The capital of the United States is {}.",
        "Washington, D.C.",
        "New York City",
    ),
    ("geography", "What is the capital of India?", "The capital of India is {}.", "New Delhi", "Mumbai"),
    (
        "geography",
        "What is the capital of Mexico?",
        "The capital of Mexico is {}.",
        "Mexico City",
        "Guadalajara",
    ),
    ("geography", "On which continent is Egypt?", "Egypt is in {}.", "Africa", "South America"),
    (
        "geography",
        "Which ocean lies between Europe and North America?",
        "The ocean between Europe and North America is {}.",
        "the Atlantic Ocean",
        "the Pacific Ocean",
    ),
    ("geography", "In which city is the Eiffel Tower?", "The Eiffel Tower is in {}.", "Paris", "Rome"),
    (
        "geography",
        "What is the longest river in South America?",
        "The longest river in South America is {}.",
        "the Amazon",
        "the Mississippi",
    ),
    ("geography", "What is the largest continent?", "The largest continent is {}.", "Asia", "Europe"),
    (
        "geography",
        "In which country do kangaroos live in the wild?",
        "Wild kangaroos live in {}.",
        "Australia",
        "Canada",
    ),
    # animals
    ("animals", "How many legs does a dog have?", "A dog has {} legs.", "four", "six"),
    ("animals", "How many legs does an insect have?", "An insect has {} legs.", "six", "four"),
    ("animals", "How many legs does a bird have?", "A bird has {} legs.", "two", "four"),
    ("animals", "How many arms does an octopus have?", "An octopus has {} arms.", "eight", "six"),
    ("animals", "What sound does a duck make?", "A duck says {}.", '"quack"', '"moo"'),
    ("animals", "What is a baby dog called?", "A baby dog is called {}.", "a puppy", "a kitten"),
    ("animals", "What do bees make?", "Bees make {} in their hives.", "honey", "milk"),
    (
        "animals",
        "What is the largest land animal?",
        "The largest land animal is {}.",
        "the elephant",
        "the horse",
    ),
    (
        "animals",
        "Which animal is known as the king of the jungle?",
        "The animal known as the king of the jungle is {}.",
        "the lion",
        "the zebra",
    ),
    (
        "animals",
        "What does a caterpillar turn into?",
        "A caterpillar turns into {}.",
        "a butterfly or a moth",
        "a frog",
    ),
    ("animals", "What do fish use to breathe?", "Fish breathe using {}.", "gills", "lungs"),
    ("animals", "What do giant pandas mainly eat?", "Giant pandas mainly eat {}.", "bamboo", "fish"),
    ("animals", "Is a whale a fish or a mammal?", "A whale is {}.", "a mammal", "a fish"),
    # time and the calendar
    ("the calendar", "How many days are in a week?", "There are {} days in a week.", "seven", "five"),
    ("the calendar", "How many months are in a year?", "There are {} months in a year.", "twelve", "ten"),
    ("time", "How many hours are in a day?", "There are {} hours in a day.", "twenty-four", "twelve"),
    ("time", "How many minutes are in an hour?", "There are {} minutes in an hour.", "sixty", "one hundred"),
    (
        "the calendar",
        "What is the first month of the year?",
        "The first month of the year is {}.",
        "January",
        "March",
    ),
    ("the calendar", "Which month comes after June?", "The month after June is {}.", "July", "September"),
    (
        "the calendar",
        "Which month has the fewest days?",
        "The month with the fewest days is {}.",
        "February",
        "April",
    ),
    ("time", "How many years are in a decade?", "There are {} years in a decade.", "ten", "five"),
    ("the calendar", "Which day comes after Monday?", "The day after Monday is {}.", "Tuesday", "Thursday"),
    # colours
    ("colours", "What colour is the sky on a clear day?", "On a clear day the sky is {}.", "blue", "green"),
    ("colours", "What colour is fresh grass?", "Fresh grass is {}.", "green", "purple"),
    ("colours", "What colour are ripe bananas?", "Ripe bananas are {}.", "yellow", "blue"),
    ("colours", "What colour is fresh snow?", "Fresh snow is {}.", "white", "red"),
    ("colours", "What colour is coal?", "Coal is {} in colour.", "black", "yellow"),
    # books and famous people
    (
        "literature",
        'Who wrote the "Harry Potter" books?',
        'The "Harry Potter" books were written by {}.',
        "J.K. Rowling",
        "Stephen King",
    ),
    (
        "literature",
        'Who wrote "Pride and Prejudice"?',
        '"Pride and Prejudice" was written by {}.',
        "Jane Austen",
        "Charles Dickens",
    ),
    (
        "literature",
        'Who wrote "Oliver Twist"?',
        '"Oliver Twist" was written by {}.',
        "Charles Dickens",
        "Mark Twain",
    ),
    (
        "literature",
        'Who wrote "Hamlet"?',
        '"Hamlet" was written by {}.',
        "William Shakespeare",
        "Charles Dickens",
    ),
    (
        "literature",
        'Who wrote "The Adventures of Tom Sawyer"?',
        '"The Adventures of Tom Sawyer" was written by {}.',
        "Mark Twain",
        "Jane Austen",
    ),
    (
        "literature",
        'Who wrote the novel "1984"?',
        'The novel "1984" was written by {}.',
        "George Orwell",
        "J.R.R. Tolkien",
    ),
    (
        "literature",
        'Who wrote "The Hobbit"?',
        '"The Hobbit" was written by {}.',
        "J.R.R. Tolkien",
        "George Orwell",
    ),
    (
        "literature",
        "Who created the detective Sherlock Holmes?",
        "The detective Sherlock Holmes was created by {}.",
        "Arthur Conan Doyle",
        "Agatha Christie",
    ),
    (
        "space travel",
        "Who was the first person to walk on the Moon?",
        "The first person to walk on the Moon was {}.",
        "Neil Armstrong",
        "Yuri Gagarin",
    ),
    # science, space and the human body
    (
        "science",
        "At what temperature in Celsius does water freeze?",
        "Water freezes at {} degrees Celsius.",
        "0",
        "10",
    ),
    (
        "science",
        "At what temperature in Fahrenheit does water boil at sea level?",
        "At sea level, water boils at {} degrees Fahrenheit.",
        "212",
        "200",
    ),
    (
        "science",
        "Which gas do humans need to breathe to stay alive?",
        "Humans need to breathe {} to stay alive.",
        "oxygen",
        "helium",
    ),
    (
        "science",
        "What force pulls objects toward the ground?",
        "The force that pulls objects toward the ground is {}.",
        "gravity",
        "magnetism",
    ),
    ("science", "What is frozen water called?", "Frozen water is called {}.", "ice", "steam"),
    ("space", "What does the Moon orbit?", "The Moon orbits {}.", "the Earth", "Mars"),
    (
        "space",
        "Which planet is known as the Red Planet?",
        "The planet known as the Red Planet is {}.",
        "Mars",
        "Jupiter",
    ),
    (
        "space",
        "Which planet is famous for its large, bright rings?",
        "The planet famous for its large, bright rings is {}.",
        "Saturn",
        "Mercury",
    ),
    ("space", "Which planet do humans live on?", "Humans live on the planet {}.", "Earth", "Venus"),
    (
        "the human body",
        "Which organs do humans use to breathe?",
        "Humans breathe with their {}.",
        "lungs",
        "kidneys",
    ),
    ("the human body", "Which body parts do we use to see?", "We see with our {}.", "eyes", "ears"),
    # words and language
    ("language", 'What is the opposite of "hot"?', 'The opposite of "hot" is {}.', '"cold"', '"loud"'),
    ("language", 'What is the opposite of "up"?', 'The opposite of "up" is {}.', '"down"', '"left"'),
    (
        "language",
        'What does the word "huge" mean?',
        'The word "huge" means {}.',
        '"very big"',
        '"very small"',
    ),
    ("language", 'What is the plural of "child"?', 'The plural of "child" is {}.', '"children"', '"childs"'),
    ("language", 'What is the past tense of "eat"?', 'The past tense of "eat" is {}.', '"ate"', '"eated"'),
    (
        "language",
        'What is a word that means the same as "happy"?',
        'A word that means the same as "happy" is {}.',
        '"glad"',
        '"angry"',
    ),
    (
        "language",
        "How many letters are in the English alphabet?",
        "The English alphabet has {} letters.",
        "26",
        "24",
    ),
    # shapes
    ("shapes", "How many sides does a triangle have?", "A triangle has {} sides.", "three", "four"),
    ("shapes", "How many sides does a square have?", "A square has {} sides.", "four", "five"),
    ("shapes", "How many sides does an octagon have?", "An octagon has {} sides.", "eight", "six"),
    ("shapes", "How many degrees are in a full circle?", "A full circle has {} degrees.", "360", "180"),
    # everyday life
    ("everyday life", "How many wheels does a bicycle have?", "A bicycle has {} wheels.", "two", "three"),
    (
        "sport",
        "How many players does a soccer team have on the field at once?",
        "A soccer team has {} players on the field at once.",
        "eleven",
        "nine",
    ),
    (
        "food",
        "What is the meal eaten in the morning called?",
        "The meal eaten in the morning is called {}.",
        "breakfast",
        "dinner",
    ),
    ("money", "What is the currency of Japan?", "The currency of Japan is {}.", "the yen", "the euro"),
    (
        "languages",
        "What language is mainly spoken in France?",
        "The main language of France is {}.",
        "French",
        "German",
    ),
)

# Arithmetic phrasings: (question template, answer-sentence template) per operation.
ARITH_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    "add": (
        ("What is {a} + {b}?", "{a} + {b} equals {c}."),
        ("What is {a} plus {b}?", "{a} plus {b} equals {c}."),
        ("Compute {a} + {b}.", "{a} + {b} is {c}."),
        ("What do you get when you add {a} and {b}?", "Adding {a} and {b} gives {c}."),
        ("What is the sum of {a} and {b}?", "The sum of {a} and {b} is {c}."),
    ),
    "sub": (
        ("What is {a} - {b}?", "{a} - {b} equals {c}."),
        ("What is {a} minus {b}?", "{a} minus {b} equals {c}."),
        ("Compute {a} - {b}.", "{a} - {b} is {c}."),
        ("What is {b} subtracted from {a}?", "{b} subtracted from {a} is {c}."),
        ("What is the difference between {a} and {b}?", "The difference between {a} and {b} is {c}."),
        ("If you take {b} away from {a}, what is left?", "Taking {b} away from {a} leaves {c}."),
    ),
    "mul": (
        ("What is {a} times {b}?", "{a} times {b} equals {c}."),
        ("What is {a} × {b}?", "{a} × {b} equals {c}."),
        ("Compute {a} * {b}.", "{a} * {b} is {c}."),
        ("What is the product of {a} and {b}?", "The product of {a} and {b} is {c}."),
        ("What do you get when you multiply {a} by {b}?", "Multiplying {a} by {b} gives {c}."),
    ),
}
ARITH_OPS = ("add",) * 27 + ("sub",) * 27 + ("mul",) * 26
# Operand pairs already used by the bundled few-shot examples (9 + 6, 7 times 8, 100 minus 37).
ARITH_EXCLUDED = {("add", 6, 9), ("mul", 7, 8), ("sub", 100, 37)}

# --------------------------------------------------------------------------------------------------
# Length cue: filler templates. Slots: {answer}, {sentence} (the claimed answer sentence), {topic}.
# None of them hedges, mentions another answer, or says anything that could contradict the claim.
# --------------------------------------------------------------------------------------------------
LENGTH_OPENINGS = (
    "",
    "Here is the answer to your question.",
    "Let me answer that for you.",
    "That is a straightforward question.",
)
LENGTH_BODY_COMMON = (
    "This is a question that comes up often, both in school lessons and in everyday conversation.",
    "Questions about {topic} like this one are a good way to check and refresh basic knowledge.",
    "It is also a popular quiz question, so it is handy to have the answer ready.",
    "Teachers often use simple questions like this one to introduce a wider topic and spark curiosity.",
    "Small facts like this often connect to bigger ideas, which is part of what makes {topic} so interesting.",
    "Many people find that learning a fact like this leads them to look up several related ones.",
    "It can help to say the answer aloud or write it down, because repeating a fact is a simple way to "
    "remember it.",
    "Clear, direct questions deserve clear, direct answers, and this question is a good example.",
    "Being sure of basic knowledge like this makes it easier to learn more advanced material later on.",
    "This is a good example of the kind of knowledge that is useful to carry around in your head.",
)
LENGTH_BODY_FACT = (
    "It is the kind of fact that many people learn when they are young and remember for the rest of their "
    "lives.",
    "Facts like this are part of the general knowledge that people share and rely on every day.",
    "Knowing it makes it easier to follow books, news stories, and conversations that touch on {topic}.",
)
LENGTH_BODY_ARITH = (
    "Arithmetic like this is one of the first skills people learn at school, and it stays useful for life.",
    "Calculations with small numbers show up all the time, from splitting a bill to counting items in a shop.",
    "Being quick with small calculations saves time and makes larger problems much easier to handle.",
    "Working with numbers of this size is good practice for mental arithmetic.",
)
LENGTH_RESTATEMENTS = (
    "So, to answer your question directly: {sentence}",
    "In short, the answer is {answer}.",
    "To sum up, the answer to your question is {answer}.",
    "If anyone asks you this in the future, you can tell them the answer is {answer}.",
    "The key point to remember is simply this: {sentence}",
    "Put simply, the answer is {answer}, and that is the part worth remembering.",
)
LENGTH_CLOSINGS = (
    "I hope this answer is useful to you.",
    "Feel free to ask if you would like to know more about {topic}.",
    "Thanks for the question, and good luck with whatever you are working on.",
    "Let me know if you have any other questions.",
    "If you have more questions like this, I am happy to answer them too.",
)
LENGTH_MIN, LENGTH_MAX = 80, 120

# --------------------------------------------------------------------------------------------------
# Format cue: markdown layouts, and neutral prose sentences that length-match the plain side.
# Layout slots: {question}, {sentence}, {answer}, {Answer} (first letter capitalised), {topic}.
# --------------------------------------------------------------------------------------------------
FORMAT_LAYOUTS = (
    "## Answer\n\n**{Answer}**\n\n- {sentence}\n- Topic: {topic}",
    "## Quick answer\n\n- **Answer:** {answer}\n- **Topic:** {topic}\n- **In one sentence:** {sentence}",
    "## Summary\n\n| Question | Answer |\n| --- | --- |\n| {question} | **{Answer}** |\n\n- {sentence}",
    "## The answer\n\nThe answer is **{answer}**.\n\n- Key point: {sentence}\n- Subject: {topic}",
    "## Short answer\n\n**{sentence}**\n\n1. Answer: {answer}\n2. Topic: {topic}",
)
FORMAT_PROSE_EXTRAS = (
    "The answer is {answer}.",
    "So the answer to the question is {answer}.",
    "This is a question about {topic}, and the answer is {answer}.",
    "This is a basic question about {topic}.",
    "In short, the answer is {answer}, which is the main point to take away from this question about {topic}.",
    "The question asks about {topic}, and the short answer to it is {answer}.",
    "That is the whole answer to this question about {topic}.",
)

# --------------------------------------------------------------------------------------------------
# Positivity cue: warm openers and closers around the claimed sentence; neutral extras for the plain side.
# The warmth is about the user and the exchange only; none of it vouches for the answer's correctness.
# --------------------------------------------------------------------------------------------------
POSITIVE_OPENERS = (
    "Great question! I'd be delighted to help with this.",
    "What a wonderful question, I love your curiosity!",
    "Oh, I'm so glad you asked, this is a fantastic question!",
    "Thank you so much for asking, this is such a fun one!",
    "Happy to help, and what a brilliant thing to wonder about!",
    "Absolutely, I'd love to answer this for you!",
    "You've picked a lovely question, and I'm thrilled to help!",
    "Wow, what a great thing to ask about!",
    "Fantastic question, you clearly have a sharp and curious mind!",
    "I'm so happy you asked, questions like this make my day!",
)
POSITIVE_CLOSERS = (
    "Hope this helps, you're doing amazing!",
    "Keep up the wonderful curiosity, you're a star!",
    "You're asking all the right questions, keep it up!",
    "Wishing you a fantastic day full of learning!",
    "I hope that puts a big smile on your face!",
    "You're doing brilliantly, and I'm always happy to help!",
    "What a joy to answer this, thank you for asking!",
    "Have a wonderful day, and keep those great questions coming!",
    "You're clearly a fantastic learner, well done!",
    "Sending you lots of encouragement, you've got this!",
)
NEUTRAL_EXTRAS = (
    "The answer is {answer}.",
    "That is the answer to the question.",
    "This question is about {topic}.",
    "To restate, the answer is {answer}.",
    "This is a standard question about {topic}, and the answer is {answer}.",
    "The question has a short answer, which is {answer}.",
)

MATCH_RATIO = 1.5  # format and positivity pairs: max(words) / min(words) must not exceed this
_WORD = re.compile(r"\w+(?:['’.\-]\w+)*")
_MARKDOWN = re.compile(r"(^|\n)#{1,6} |\*\*|(^|\n)- |(^|\n)\d+\. |\|")


@dataclass(frozen=True)
class Question:
    """One question with its correct and its single fixed wrong answer."""

    qid: str
    kind: str  # "fact" | "arithmetic"
    topic: str
    prompt: str
    template: str  # answer sentence with "{}" for the answer
    correct: str
    wrong: str

    def sentence(self, answer: str) -> str:
        return self.template.format(answer)


def n_words(text: str) -> int:
    """Word count used throughout: runs of letters/digits (markdown symbols and punctuation do not count)."""
    return len(_WORD.findall(text))


def ratio(a: str, b: str) -> float:
    wa, wb = n_words(a), n_words(b)
    return max(wa, wb) / min(wa, wb)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def join(parts: Sequence[str]) -> str:
    return " ".join(p for p in parts if p)


# ----------------------------------------------- questions ----------------------------------------------


def build_arithmetic(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """80 distinct small-number problems: (question, sentence template, correct, wrong)."""
    ops = list(ARITH_OPS)
    rng.shuffle(ops)
    seen: set[tuple[str, int, int]] = set(ARITH_EXCLUDED)
    out: list[tuple[str, str, str, str]] = []
    for op in ops:
        while True:
            if op == "add":
                a = rng.randint(2, 90)
                b = rng.randint(2, 100 - a)
                c = a + b
                key = (op, min(a, b), max(a, b))
            elif op == "sub":
                a = rng.randint(10, 100)
                b = rng.randint(2, a - 1)
                c = a - b
                key = (op, a, b)
            else:
                a, b = rng.randint(2, 12), rng.randint(2, 12)
                c = a * b
                key = (op, min(a, b), max(a, b))
            if key in seen or c in (a, b):
                continue
            d = rng.randint(1, 10)
            wrong = c + d if (rng.random() < 0.5 or c - d < 0) else c - d
            if wrong in (a, b):  # keep operands and answers apart so texts never mention the other answer
                continue
            seen.add(key)
            break
        q_tpl, s_tpl = rng.choice(ARITH_PHRASES[op])
        out.append((q_tpl.format(a=a, b=b), s_tpl.format(a=a, b=b, c="{}"), str(c), str(wrong)))
    return out


def build_questions() -> list[Question]:
    rng = random.Random(SEED)
    questions = [
        Question(f"q{i + 1:03d}", "fact", topic, prompt, tpl, correct, wrong)
        for i, (topic, prompt, tpl, correct, wrong) in enumerate(FACTS)
    ]
    for j, (prompt, tpl, correct, wrong) in enumerate(build_arithmetic(rng)):
        qid = f"q{len(FACTS) + j + 1:03d}"
        questions.append(Question(qid, "arithmetic", "arithmetic", prompt, tpl, correct, wrong))
    return questions


def assign_halves(questions: Sequence[Question]) -> dict[str, str]:
    """Seeded shuffle within each kind; the first PER_HALF go to dev, the rest to test."""
    rng = random.Random(f"{SEED}:halves")
    half: dict[str, str] = {}
    for kind in ("fact", "arithmetic"):
        ids = [q.qid for q in questions if q.kind == kind]
        rng.shuffle(ids)
        for k, qid in enumerate(ids):
            half[qid] = "dev" if k < PER_HALF else "test"
    return half


# ------------------------------------------------- cues -------------------------------------------------


def slots(q: Question, answer: str) -> dict[str, str]:
    return {
        "answer": answer,
        "Answer": cap(answer),
        "sentence": q.sentence(answer),
        "topic": q.topic,
        "question": q.prompt,
    }


def length_texts(q: Question, rng: random.Random) -> dict[str, tuple[str, str]]:
    """{answer: (plain, cued)} for the correct and the wrong answer, from one shared template plan."""
    body_pool = list(LENGTH_BODY_COMMON) + list(LENGTH_BODY_FACT if q.kind == "fact" else LENGTH_BODY_ARITH)
    rng.shuffle(body_pool)
    opening = rng.choice(LENGTH_OPENINGS)
    restatement = rng.choice(LENGTH_RESTATEMENTS)
    closing = rng.choice(LENGTH_CLOSINGS)
    target = rng.randint(88, 104)

    def render(body: Sequence[str], answer: str) -> str:
        s = slots(q, answer)
        parts = [opening, s["sentence"], *body[:1], restatement, *body[1:], closing]
        return join([p.format(**s) for p in parts])

    body: list[str] = []
    for cand in body_pool:
        texts = [render(body, a) for a in (q.correct, q.wrong)]
        if min(n_words(t) for t in texts) >= target:
            break
        trial = body + [cand]
        if max(n_words(render(trial, a)) for a in (q.correct, q.wrong)) <= LENGTH_MAX:
            body = trial
    return {a: (q.sentence(a), render(body, a)) for a in (q.correct, q.wrong)}


def best_match(
    rng: random.Random, cued: dict[str, str], plain_options: Sequence[dict[str, str]]
) -> dict[str, str]:
    """Pick a plain option whose word count matches the cued texts it is paired with.

    ``cued`` and each option map the two answers to texts. A pair sets the plain text of one answer
    against the cued text of the other (bias: plain correct vs cued wrong; control: cued correct vs
    plain wrong), so the match is scored across answers; the option is picked at random among the two
    best when the runner-up is also close.
    """
    correct, wrong = cued

    def worst(opt: dict[str, str]) -> float:
        return max(ratio(opt[correct], cued[wrong]), ratio(opt[wrong], cued[correct]))

    ranked = sorted(plain_options, key=worst)
    return rng.choice(ranked[:2]) if len(ranked) > 1 and worst(ranked[1]) <= 1.25 else ranked[0]


def format_texts(q: Question, rng: random.Random) -> dict[str, tuple[str, str]]:
    layout = rng.choice(FORMAT_LAYOUTS)
    answers = (q.correct, q.wrong)
    cued = {a: layout.format(**slots(q, a)) for a in answers}
    options = [{a: q.sentence(a) for a in answers}]
    extras = list(FORMAT_PROSE_EXTRAS)
    rng.shuffle(extras)
    options += [{a: join([q.sentence(a), e.format(**slots(q, a))]) for a in answers} for e in extras]
    plain = best_match(rng, cued, options)
    return {a: (plain[a], cued[a]) for a in answers}


def positivity_texts(q: Question, rng: random.Random) -> dict[str, tuple[str, str]]:
    opener, closer = rng.choice(POSITIVE_OPENERS), rng.choice(POSITIVE_CLOSERS)
    answers = (q.correct, q.wrong)
    cued = {a: join([opener, q.sentence(a), closer]) for a in answers}
    extras = list(NEUTRAL_EXTRAS)
    rng.shuffle(extras)
    combos: list[tuple[str, ...]] = [(e,) for e in extras]
    combos += [
        (e1, e2)
        for e1 in extras
        for e2 in extras
        # Two extras never both restate the answer or both name the topic (that reads as padding).
        if e1 != e2 and not any(slot in e1 and slot in e2 for slot in ("{answer}", "{topic}"))
    ]
    options = [
        {a: join([q.sentence(a), *(e.format(**slots(q, a)) for e in combo)]) for a in answers}
        for combo in combos
    ]
    plain = best_match(rng, cued, options)
    return {a: (plain[a], cued[a]) for a in answers}


CUE_BUILDERS = {"length": length_texts, "format": format_texts, "positivity": positivity_texts}


def build_records() -> tuple[list[Question], list[dict[str, str]]]:
    questions = build_questions()
    half = assign_halves(questions)
    records: list[dict[str, str]] = []
    for q in questions:
        for bias in BIASES:
            # One RNG per (question, cue): both splits share the same template plan.
            texts = CUE_BUILDERS[bias](q, random.Random(f"{SEED}:{q.qid}:{bias}"))
            plain_correct, cued_correct = texts[q.correct]
            plain_wrong, cued_wrong = texts[q.wrong]
            for split, chosen, rejected in (
                ("bias", plain_correct, cued_wrong),
                ("control", cued_correct, plain_wrong),
            ):
                records.append(
                    {
                        "id": f"{bias}-{split}-{q.qid}",
                        "question_id": q.qid,
                        "kind": q.kind,
                        "bias": bias,
                        "split": split,
                        "half": half[q.qid],
                        "prompt": q.prompt,
                        "chosen": chosen,
                        "rejected": rejected,
                    }
                )
    records.sort(key=lambda r: r["id"])
    return questions, records


def serialize(records: Sequence[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# ------------------------------------------------ checks ------------------------------------------------


def _answer_re(answer: str) -> re.Pattern[str]:
    """The answer as a whole phrase, also with its first letter capitalised (as in a bold answer line)."""
    left = r"(?<![\w.])" if answer[:1].isalnum() else ""
    right = r"(?!\w)" if answer[-1:].isalnum() else ""
    alts = "|".join(re.escape(a) for a in sorted({answer, cap(answer)}))
    return re.compile(f"{left}(?:{alts}){right}")


def mentions(text: str, answer: str) -> bool:
    return _answer_re(answer).search(text) is not None


def mask(text: str, answer: str) -> str:
    return _answer_re(answer).sub("\0", text)


def validate(questions: Sequence[Question], records: Sequence[dict[str, str]]) -> None:
    """Raise AssertionError on any violated invariant of the data set."""
    assert len(questions) == N_FACTS + N_ARITH == 160, len(questions)
    assert Counter(q.kind for q in questions) == {"fact": N_FACTS, "arithmetic": N_ARITH}
    prompts = [re.sub(r"\W+", " ", q.prompt.lower()).strip() for q in questions]
    assert len(set(prompts)) == len(prompts), "duplicate questions"
    assert len(records) == 960, len(records)
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids), "duplicate ids"
    assert ids == sorted(ids), "records not sorted by id"
    cells = Counter((r["half"], r["bias"], r["split"]) for r in records)
    assert set(cells.values()) == {80} and len(cells) == 12, cells
    kinds_per_half = Counter((r["half"], r["kind"]) for r in records)
    assert set(kinds_per_half.values()) == {40 * 6}, kinds_per_half
    by_q: dict[str, set[str]] = {}
    for r in records:
        by_q.setdefault(r["question_id"], set()).add(r["half"])
    assert all(len(h) == 1 for h in by_q.values()), "a question spans both halves"

    qmap = {q.qid: q for q in questions}
    for q in questions:
        assert q.correct != q.wrong, q.qid
        assert 4 <= n_words(q.sentence(q.correct)) <= 12 and 4 <= n_words(q.sentence(q.wrong)) <= 12, q.qid
        if q.kind == "arithmetic":
            assert int(q.wrong) >= 0 and 1 <= abs(int(q.wrong) - int(q.correct)) <= 10, q.qid
    for r in records:
        q = qmap[r["question_id"]]
        assert r["prompt"] == q.prompt and r["kind"] == q.kind
        assert r["chosen"] and r["rejected"] and r["chosen"] != r["rejected"], r["id"]
        # Each response claims exactly one answer: chosen the correct one, rejected the fixed wrong one.
        for text, claim, other in ((r["chosen"], q.correct, q.wrong), (r["rejected"], q.wrong, q.correct)):
            assert mentions(text, claim), (r["id"], claim)
            assert not mentions(text, other), (r["id"], "mentions the other answer", other)
        plain, cued = (r["chosen"], r["rejected"]) if r["split"] == "bias" else (r["rejected"], r["chosen"])
        plain_claim = q.correct if r["split"] == "bias" else q.wrong
        assert plain.startswith(q.sentence(plain_claim)), r["id"]
        assert not _MARKDOWN.search(plain) and "!" not in plain, r["id"]
        if r["bias"] == "length":
            assert plain == q.sentence(plain_claim), r["id"]
            assert n_words(cued) >= 5 * n_words(plain), (r["id"], n_words(cued), n_words(plain))
            assert LENGTH_MIN <= n_words(cued) <= LENGTH_MAX, (r["id"], n_words(cued))
            assert not _MARKDOWN.search(cued), r["id"]
        elif r["bias"] == "format":
            assert ratio(plain, cued) <= MATCH_RATIO, (r["id"], n_words(plain), n_words(cued))
            assert cued.startswith("## ") and "**" in cued, r["id"]
            assert re.search(r"\n- |\n\d+\. ", cued), r["id"]
        else:
            assert ratio(plain, cued) <= MATCH_RATIO, (r["id"], n_words(plain), n_words(cued))
            assert "!" in cued and not _MARKDOWN.search(cued), r["id"]
    # The cued texts of a question's two splits share one template plan: same text up to the answer.
    recs = {r["id"]: r for r in records}
    for q in questions:
        for bias in BIASES:
            b, c = recs[f"{bias}-bias-{q.qid}"], recs[f"{bias}-control-{q.qid}"]
            assert mask(b["rejected"], q.wrong) == mask(c["chosen"], q.correct), (q.qid, bias)
            assert mask(b["chosen"], q.correct) == mask(c["rejected"], q.wrong), (q.qid, bias)
    # No overlap with the prompts of the bundled few-shot example sets (skipped if they are absent).
    if EXAMPLES_DIR.is_dir():
        ex_prompts = set()
        for path in sorted(EXAMPLES_DIR.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    ex_prompts.add(re.sub(r"\W+", " ", json.loads(line)["prompt"].lower()).strip())
        clash = sorted(set(prompts) & ex_prompts)
        assert not clash, f"prompts shared with the few-shot examples: {clash}"


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def summary(records: Sequence[dict[str, str]]) -> str:
    cells = Counter((r["half"], r["bias"], r["split"]) for r in records)
    lines = [f"{len(records)} pairs over {len({r['question_id'] for r in records})} questions"]
    lines += [f"  {h:4s} {b:10s} {s:7s} {n}" for (h, b, s), n in sorted(cells.items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="validate the file on disk; write nothing")
    parser.add_argument("--out", type=Path, default=OUT_PATH, help="output path (default: %(default)s)")
    args = parser.parse_args(argv)
    questions, records = build_records()
    validate(questions, records)
    text = serialize(records)
    if args.check:
        on_disk = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if on_disk != text:
            print(
                f"{args.out} is missing or differs from a fresh build; rerun without --check", file=sys.stderr
            )
            return 1
        disk_records = [json.loads(line) for line in on_disk.splitlines()]
        validate(questions, disk_records)
        print(f"OK: {args.out} matches a fresh build and passes all checks\n{summary(disk_records)}")
        return 0
    write_atomic(args.out, text)
    print(f"wrote {args.out}\n{summary(records)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
